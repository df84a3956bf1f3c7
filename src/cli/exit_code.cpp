#include "cli/exit_code.h"

namespace touchpass::cli {

ExitCode exit_code_for(Code code) {
  switch (code) {
    case Code::ok:
      return ExitCode::success;
    case Code::cancelled:
      return ExitCode::cancelled;
    case Code::pin_invalid:
    case Code::pin_blocked:
    case Code::pin_auth_blocked:
    case Code::pin_required:
    case Code::pin_not_set:
    case Code::pin_policy:
    case Code::token_removed:
    case Code::no_token:
    case Code::no_credentials:
    case Code::presence_denied:
    case Code::presence_timeout:
    case Code::capability_missing:
    case Code::malformed_reply:
    case Code::clone_suspected:
    case Code::verification_failed:
    case Code::token_error:
      return ExitCode::token;
    case Code::invalid_argument:
      return ExitCode::usage;
    case Code::permission_denied:
    case Code::refused:
      return ExitCode::permission;
    case Code::not_found:
      return ExitCode::not_found;
    case Code::io_error:
    case Code::internal:
    case Code::protocol_error:
    case Code::unsupported_version:
    case Code::busy:
    case Code::integrity:
      return ExitCode::general;
  }
  return ExitCode::general;
}

const std::string_view kExitCodeHelp =
    "Exit codes:\n"
    "  0  success\n"
    "  1  general error (including a daemon that answered something unexpected)\n"
    "  2  usage error (bad arguments, or arguments the daemon refused)\n"
    "  3  touchpassd is not running or its socket cannot be reached\n"
    "  4  permission denied\n"
    "  5  security key or PIN problem (wrong or blocked PIN, no key, no touch, ...)\n"
    "  6  cancelled\n"
    "  7  not found (no such app password or security key)\n";

}  // namespace touchpass::cli
