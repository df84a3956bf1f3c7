#include "web/log.h"

#include <unistd.h>

#include <cstdlib>
#include <string>

namespace touchpass::web {

void log(LogLevel level, std::string_view message) {
  static const bool journal = std::getenv("JOURNAL_STREAM") != nullptr;
  std::string line;
  if (journal) line = "<" + std::to_string(static_cast<int>(level)) + ">";
  line += "touchpass-web: ";
  if (level == LogLevel::error) line += "error: ";
  if (level == LogLevel::warning) line += "warning: ";
  for (char c : message) line += (c == '\n' || c == '\r') ? ' ' : c;
  line += '\n';
  // One write(2) a line: lines from several threads do not interleave.
  (void)!::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace touchpass::web
