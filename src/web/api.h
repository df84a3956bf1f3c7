// The HTTPS JSON API below /api/v1/ (API.md): routing, the session cookie and CSRF checks, and
// the relay of web users' requests to touchpassd — free of HTTP-library types, so that the
// server only translates. Every answer is JSON in the local protocol's format, with the same
// error codes.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/secret.h"
#include "ipc/messages.h"
#include "web/csrf.h"
#include "web/http_error.h"
#include "web/mail_settings.h"

namespace touchpass::web {

// One API request as the server received it.
struct ApiRequest {
  std::string_view method;
  std::string_view path;
  std::optional<std::string>* body = nullptr;  // the body, if any (wiped once relayed)
  std::string_view session_cookie;             // the value of kSessionCookie, if sent
  std::string_view csrf;                       // the X-Touchpass-CSRF header, if sent
  std::string_view origin;                     // the Origin header, if sent
  std::string client;                          // the client's address (client_address.h)
};

struct ApiAnswer {
  unsigned status = 200;
  std::string body;   // JSON (wiped by the server once sent: it may hold a password)
  std::string allow;  // 405: the methods the path takes (the Allow header)
  std::vector<std::pair<std::string, std::string>> headers;  // Set-Cookie (secret) and others
};

struct ApiSettings {
  std::filesystem::path daemon_socket;
  // The page's origin (`https://host[:port]`): a POST from another Origin is refused. Empty:
  // any Origin passes, and the CSRF token alone protects the session.
  std::string origin;
  std::chrono::milliseconds daemon_timeout{10000};
  // The mail settings a phone-setup answer carries (phone_setup_route.h); none: no phone setup.
  std::optional<MailSettings> mail{};
};

class Api {
 public:
  // Whether touchpassd can be reached (daemon_probe.h).
  using DaemonProbe = std::function<bool()>;

  Api(ApiSettings settings, CsrfGuard csrf, DaemonProbe daemon_reachable)
      : settings_(std::move(settings)),
        csrf_(std::move(csrf)),
        daemon_reachable_(std::move(daemon_reachable)) {}

  // Whether `path` is the API's (below /api/); those answers are JSON and never cached.
  static bool owns(std::string_view path);

  // Answers one request (owns(request.path)). The body, if any, is parsed (json_body.h) before
  // the request is routed, so a malformed body is refused as 400 protocol_error whatever the
  // path. Then: an unknown path 404 not_found, a method the path does not take 405
  // protocol_error (with `allow`), a POST with the session cookie but without its CSRF token or
  // from another origin 403 permission_denied; otherwise the request is relayed to touchpassd
  // and its answer returned (a session it opens becomes a cookie, its secret part `secret`).
  ApiAnswer handle(const ApiRequest& request) const;

 private:
  // A request for touchpassd (`parsed`: its body, if it has one).
  ApiAnswer relay(const ApiRequest& request, ipc::Op op,
                  std::optional<nlohmann::json> parsed) const;

  // Whether touchpassd still knows `session` (asked on behalf of `client`).
  bool session_alive(const SecretBytes& session, const std::string& client) const;

  ApiSettings settings_;
  CsrfGuard csrf_;
  DaemonProbe daemon_reachable_;
};

}  // namespace touchpass::web
