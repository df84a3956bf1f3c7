// The arguments of pam_touchpass.so, as written after the module's path in a PAM service file:
//
//   auth required pam_touchpass.so [service=NAME] [socket=PATH] [daemon_user=NAME]
//                                  [timeout=SECONDS] [debug]
//
// A misspelt or malformed argument is an error (the module then fails closed with
// PAM_SERVICE_ERR) rather than being ignored, so a typo cannot silently change behaviour.
#pragma once

#include <chrono>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"

namespace touchpass::pam {

// touchpassd's verification socket, which only root and its service group can reach.
inline constexpr std::string_view kDefaultSocket = "/run/touchpass/verify.sock";
inline constexpr std::string_view kDefaultDaemonUser = "touchpass";
inline constexpr std::chrono::seconds kDefaultTimeout{15};
inline constexpr std::chrono::seconds kMaxTimeout{120};

struct ModuleOptions {
  // The service (grant scope) the password must allow, e.g. "imap".
  std::string service;
  // touchpassd's socket.
  std::string socket{kDefaultSocket};
  // The user touchpassd runs as: besides root, the only user whose process may answer on the
  // socket (the password goes to nobody else).
  std::string daemon_user{kDefaultDaemonUser};
  // The whole exchange with touchpassd (connect, send, answer) must finish within this.
  std::chrono::milliseconds timeout{kDefaultTimeout};
  // Log every verdict, successes included.
  bool debug = false;
};

// True when `name` is usable as a grant scope: 1 to 32 characters of [a-z0-9_-].
bool is_valid_service_name(std::string_view name);

// True when `name` is usable as daemon_user=: 1 to 31 characters of [A-Za-z0-9_-], the first a
// letter or '_' (systemd's strict rule for user names; a numeric uid is not a name).
bool is_valid_user_name(std::string_view name);

// Parses the module's arguments. `pam_service` (the PAM service name, e.g. "imap" for
// /etc/pam.d/imap) is the service when no service= argument is given.
// Errors: invalid_argument with a sentence naming the argument and what is wrong with it.
Result<ModuleOptions> parse_module_options(std::span<const char* const> arguments,
                                           std::string_view pam_service);

}  // namespace touchpass::pam
