// The exit codes of the touchpass command, and how error codes of the protocol map to them.
// They are part of the command's interface (scripts test them): never renumber.
#pragma once

#include <string_view>

#include "core/status.h"

namespace touchpass::cli {

enum class ExitCode : int {
  success = 0,
  general = 1,      // any other failure, including a daemon that breaks the protocol
  usage = 2,        // bad arguments (ours, or refused by the daemon as invalid_argument)
  unreachable = 3,  // touchpassd is not running or the socket cannot be reached
  permission = 4,   // permission_denied
  token = 5,        // a token or PIN problem
  cancelled = 6,    // the user cancelled (Ctrl-C, or the daemon reports cancelled)
  not_found = 7,    // the named token or app password does not exist
};

// The exit code for an error `code`, whether the daemon reported it or we found it ourselves.
ExitCode exit_code_for(Code code);

// The process exit status for `code`.
inline int to_int(ExitCode code) {
  return static_cast<int>(code);
}

// The table of exit codes for `touchpass --help`.
extern const std::string_view kExitCodeHelp;

}  // namespace touchpass::cli
