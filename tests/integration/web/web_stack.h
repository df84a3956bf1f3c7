// touchpassd, a virtual token and touchpass-web as separate processes, deployed as on a server:
// touchpass-web runs as nobody:nogroup (touchpassd's gateway_group is nogroup; root is never a
// gateway) over TLS on 127.0.0.1, and its page is https://mail.example.test:PORT, which the
// tests' clients resolve to 127.0.0.1. Needs root (to run touchpass-web as another user).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "daemon/daemon_harness.h"
#include "ipc/messages.h"
#include "web_process.h"

namespace touchpass::testing {

inline constexpr const char* kWebHost = "mail.example.test";

// One API answer, its JSON parsed (null when it is not JSON).
struct ApiReply {
  HttpAnswer http;
  ipc::Json json;

  bool ok() const { return json.is_object() && json.value("ok", false); }
  std::string code() const;         // the error code, or "" for an ok answer
  const ipc::Json& result() const;  // the ok answer's result
};

// A browser's state for the API: its cookies (kept by libcurl in a file) and the CSRF token.
struct WebClient {
  std::filesystem::path cookie_file;
  std::string csrf;
  std::string origin;  // the Origin header to send; empty: none
};

class WebStack {
 public:
  // Starts everything; nullptr (with the reason in `error`) when something did not come up.
  // `web_extra` is appended to web.conf.
  static std::unique_ptr<WebStack> start(std::string* error, const std::string& web_extra = "");
  // The same over `deployment`, whose token runs already: touchpassd is restarted with the
  // gateway settings. `deployment` must outlive the stack.
  static std::unique_ptr<WebStack> start_over(Deployment& deployment, std::string* error,
                                              const std::string& web_extra = "");
  ~WebStack();

  Deployment& deployment() { return *deployment_; }
  WebProcess& web() { return *web_; }
  // https://mail.example.test:PORT
  const std::string& origin() const { return origin_; }
  const TestCertificate& certificate() const { return *certificate_; }

  // Kills touchpass-web (SIGKILL) and starts it again on the same port; false if it did not
  // come up (the reason in `error`).
  bool restart_web(std::string* error);

  // A client with an empty cookie file of its own.
  WebClient new_client(const std::string& name) const;

  // POST /api/v1/<op> with `body` ("v": 1 added) as `client`: its cookies, its CSRF token
  // (X-Touchpass-CSRF) and Origin; a `csrf` in the answer is kept for the next request.
  ApiReply call(WebClient& client, const std::string& op, ipc::Json body = ipc::Json::object());
  // GET /api/v1/<path>.
  ApiReply get(WebClient& client, const std::string& path);
  // GET `path` (a page, not the API: e.g. "/setup/profile?token=…") as `client`.
  HttpAnswer get_page(const WebClient& client, const std::string& path);

  // The finish body for the offer in `begun` (an ok <op>-begin answer): the virtual token's
  // answer, with S as `secret`. An error when the token did not answer.
  Result<ipc::Json> finish_body(const ApiReply& begun, const std::string& op);

  // A ceremony through the API: <op>-begin with `body`, the virtual token answers the offer,
  // then finish with S as `secret`. `tamper` may change the finish body before it is sent.
  ApiReply ceremony(WebClient& client, const std::string& op, ipc::Json body,
                    const std::function<void(ipc::Json&)>& tamper = {});

  // An invitation for `user` made by root over the local socket: the code.
  std::string invite(const std::string& user);
  // Asks touchpassd (as root) whether `password` logs `user` in to `service` from the client
  // address `remote` (none when empty): "ok" or the error code.
  std::string verify(const std::string& user, const std::string& password,
                     const std::string& service = "imap", const std::string& remote = "");

 private:
  WebStack() = default;
  // Makes the certificate and starts touchpass-web, then touchpassd with the gateway settings
  // (and the token, unless `token_runs`).
  bool start_all(std::string* error, bool token_runs);
  bool start_web(std::string* error);
  HttpRequest request(const WebClient& client, const std::string& method,
                      const std::string& path) const;

  std::unique_ptr<Deployment> owned_;  // start(): the stack's own deployment
  Deployment* deployment_ = nullptr;
  std::optional<TestCertificate> certificate_;
  std::filesystem::path web_config_;
  std::uint16_t port_ = 0;
  std::string origin_;
  std::string web_extra_;
  std::unique_ptr<WebProcess> web_;
};

}  // namespace touchpass::testing
