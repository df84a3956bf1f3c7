// touchpass-web's log: one line per event on standard error, which systemd sends to the
// journal (with a syslog priority prefix, "<3>", when stderr is the journal). Never pass a
// secret, a request body or a header value here.
#pragma once

#include <string_view>

namespace touchpass::web {

enum class LogLevel { error = 3, warning = 4, info = 6 };

// Writes one line; newlines inside `message` are escaped. Thread-safe.
void log(LogLevel level, std::string_view message);

}  // namespace touchpass::web
