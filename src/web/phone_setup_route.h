// Phone setup (issue 14): the page a phone opens from the QR code the CLI or the self-service
// page shows (static setup.html, the token in the fragment) fetches the app password once from
// touchpassd (op phone-setup, the token in the secret part) in one of two forms:
// - GET /setup/profile?token=T: an Apple configuration profile with the IMAP and SMTP accounts
//   and the password (iPhone, iPad, macOS install it);
// - POST /api/v1/phone-setup (api.cpp): the password and the settings to type (other phones),
//   with `mail` added by mail_setup_json.
// Without mail settings (web.conf) there is no profile and no settings: not_found.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "ipc/messages.h"
#include "web/mail_settings.h"

namespace touchpass::web {

// {"address", "login", "imap": {"host", "port", "security"}, "smtp": {…}} for `user`.
ipc::Json mail_setup_json(const MailSettings& mail, std::string_view user);

class PhoneSetupRoute {
 public:
  PhoneSetupRoute(std::optional<MailSettings> mail, std::filesystem::path daemon_socket,
                  std::chrono::milliseconds daemon_timeout);

  // Whether `path` (without the query) is the profile's path.
  static bool owns(std::string_view path);

  // The profile for the setup of `token` (base64url, as in the link), taken from touchpassd for a
  // phone at `client`. The document holds the password: the caller wipes it once sent. Errors:
  // not_found without mail settings or for a malformed, unknown, used or expired token (the
  // setup's own sentence); touchpassd's errors as relay_to_daemon gives them.
  Result<std::string> profile(std::string_view token, const std::string& client) const;

 private:
  std::optional<MailSettings> mail_;
  std::filesystem::path daemon_socket_;
  std::chrono::milliseconds daemon_timeout_;
};

}  // namespace touchpass::web
