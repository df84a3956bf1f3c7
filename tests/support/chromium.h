// A headless Chromium for the tests, driven over the DevTools protocol (CDP) on a pipe: the
// browser reads commands from its fd 3 and writes answers and events to its fd 4, each message a
// JSON object followed by a NUL byte (--remote-debugging-pipe). One Chromium per object, with a
// profile in a temporary directory; the destructor kills and reaps it and removes the directory.
// Every wait has a deadline, only as a guard against a hang: nothing here depends on timing.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/fd.h"
#include "support/virtual_token.h"

namespace touchpass::testing {

// What a command answered: its `result`, or the protocol's error message (or the driver's:
// a deadline passed, Chromium exited).
struct CdpAnswer {
  nlohmann::json result = nlohmann::json::object();
  std::string error;  // empty: the command succeeded
  bool ok() const { return error.empty(); }
};

// One event as Chromium sent it: `method`, `params` and, for a page's events, `sessionId`.
struct CdpEvent {
  std::string method;
  nlohmann::json params;
  std::string session;  // empty: the browser's own event
};

class Chromium {
 public:
  static constexpr std::chrono::seconds kDefaultDeadline{30};

  struct Options {
    // --host-resolver-rules, e.g. "MAP mail.example.test 127.0.0.1"; empty: none.
    std::string host_resolver_rules;
    // --ignore-certificate-errors-spki-list: base64 SHA-256 hashes of the SubjectPublicKeyInfo
    // of certificates to accept although no root vouches for them; empty: none.
    std::string trusted_spki_hash;
  };

  // The browser program (/usr/bin/chromium, Debian's package), or an empty path when it is not
  // installed.
  static std::filesystem::path program();

  // Starts `program()` headless (--headless=new --no-sandbox, a fresh profile) and waits until it
  // answers Browser.getVersion. nullptr with a sentence in `error` (and Chromium's output) when
  // it cannot be started or does not answer within kDefaultDeadline.
  static std::unique_ptr<Chromium> start(const Options& options, std::string* error);

  // Kills Chromium (SIGKILL to its process group), reaps it and removes the profile directory.
  ~Chromium();
  Chromium(const Chromium&) = delete;
  Chromium& operator=(const Chromium&) = delete;

  // Sends `method` with `params` (to the page attached as `session`, or to the browser when
  // empty) and waits for its answer until `deadline` has passed. Events that arrive meanwhile are
  // kept for wait_for_event() and events().
  CdpAnswer call(const std::string& method, const nlohmann::json& params = nlohmann::json::object(),
                 const std::string& session = {}, std::chrono::seconds deadline = kDefaultDeadline);

  // Waits for the first event named `method` (from `session`; empty: from anyone) that no earlier
  // wait_for_event() returned, reading until `deadline` has passed. nullopt when none came.
  std::optional<CdpEvent> wait_for_event(const std::string& method, const std::string& session = {},
                                         std::chrono::seconds deadline = kDefaultDeadline);

  // Every event received so far, in order (including those wait_for_event() returned).
  const std::vector<CdpEvent>& events() const { return events_; }

  // Opens a new tab on about:blank, attaches to it with a flat session and enables its Page,
  // Runtime and Log domains. The session id, or an empty string with the reason in `error`.
  std::string open_page(std::string* error);

  // Navigates the page of `session` to `url` and waits for its load event. The error (a
  // navigation error such as net::ERR_CERT_AUTHORITY_INVALID, or a deadline) or an empty string.
  std::string navigate(const std::string& session, const std::string& url);

  // Evaluates `expression` in the page (awaiting a promise it gives) and returns its value by
  // value in `result` ("value" absent for undefined). An exception thrown is an error: its text.
  CdpAnswer evaluate(const std::string& session, const std::string& expression,
                     std::chrono::seconds deadline = kDefaultDeadline);

  // WebAuthn.enable (without the browser's own dialogs) and WebAuthn.addVirtualAuthenticator
  // with `options` (the protocol's VirtualAuthenticatorOptions). The authenticator's id in
  // `result["authenticatorId"]`.
  CdpAnswer add_virtual_authenticator(const std::string& session, const nlohmann::json& options);

  // Holds every request of the page of `session` whose URL matches `url_pattern` (Fetch.enable;
  // `*` matches any characters) until the test answers it with fulfill(). Each one arrives as
  // the event Fetch.requestPaused (wait_for_event), its `request` carrying url, method, headers
  // and postData.
  CdpAnswer intercept(const std::string& session, const std::string& url_pattern);

  // Answers the held request `request_id` with `status`, `headers` ({name: value}) and `body`.
  CdpAnswer fulfill(const std::string& session, const std::string& request_id, int status,
                    const nlohmann::json& headers, const std::string& body);

  // Page.captureScreenshot as PNG into `path`. An error sentence, or an empty string.
  std::string screenshot(const std::string& session, const std::filesystem::path& path);

  // What Chromium wrote to its standard output and error so far (for failure messages).
  std::string output() const;

 private:
  Chromium() = default;
  // Writes one message; false when the pipe is gone.
  bool send(const nlohmann::json& message);
  // Reads what is available, waiting at most until `until`; splits and files complete messages.
  // False when the pipe closed or nothing came before `until`.
  bool read_some(std::chrono::steady_clock::time_point until);
  void file_message(const std::string& text);

  std::unique_ptr<TempDir> dir_;
  pid_t pid_ = -1;
  UniqueFd to_browser_;
  UniqueFd from_browser_;
  std::string buffer_;
  long next_id_ = 1;
  std::vector<nlohmann::json> answers_;  // answers not yet taken by call()
  std::vector<CdpEvent> events_;
  std::vector<bool> taken_;  // per event: returned by wait_for_event()
};

}  // namespace touchpass::testing
