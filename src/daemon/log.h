// touchpassd's log: one line per event on standard error, which systemd sends to the journal
// (with a syslog priority prefix when stderr is the journal). Never pass a secret here.
#pragma once

#include <string_view>

namespace touchpass::daemon {

enum class LogLevel { error = 3, warning = 4, info = 6, debug = 7 };

void log(LogLevel level, std::string_view message);
inline void log_error(std::string_view m) {
  log(LogLevel::error, m);
}
inline void log_warning(std::string_view m) {
  log(LogLevel::warning, m);
}
inline void log_info(std::string_view m) {
  log(LogLevel::info, m);
}

}  // namespace touchpass::daemon
