#include "daemon/log.h"

#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <string>

namespace touchpass::daemon {

void log(LogLevel level, std::string_view message) {
  static const bool journal = std::getenv("JOURNAL_STREAM") != nullptr;
  static std::mutex mu;
  std::string line;
  if (journal) {
    line = "<" + std::to_string(static_cast<int>(level)) + ">";
  } else {
    line = "touchpassd: ";
    if (level == LogLevel::error) line += "error: ";
    if (level == LogLevel::warning) line += "warning: ";
  }
  // One line per event: a newline inside a message (from a name a client chose) is escaped.
  for (char c : message) {
    if (c == '\n' || c == '\r') {
      line += "\\n";
    } else {
      line += c;
    }
  }
  line += '\n';
  std::lock_guard lock(mu);
  (void)!::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace touchpass::daemon
