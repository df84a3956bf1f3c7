// touchpassd's log: one line per event on standard error, which systemd sends to the journal
// (with a syslog priority prefix when stderr is the journal). Never pass a secret here.
#pragma once

#include <initializer_list>
#include <string_view>
#include <utility>

namespace touchpass::daemon {

enum class LogLevel { error = 3, warning = 4, info = 6, debug = 7 };

// Extra journal fields, e.g. {"TOUCHPASS_USER", "alice"}: names in upper case, values never
// secret. Under systemd they are sent to the journal as structured fields; otherwise dropped.
using LogFields = std::initializer_list<std::pair<std::string_view, std::string_view>>;

void log(LogLevel level, std::string_view message, LogFields fields = {});
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
