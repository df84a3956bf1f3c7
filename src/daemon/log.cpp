#include "daemon/log.h"

#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

namespace touchpass::daemon {

namespace {

// One line per event: a newline inside a message (from a name a client chose) is escaped.
std::string one_line(std::string_view message) {
  std::string line;
  for (char c : message) {
    if (c == '\n' || c == '\r') {
      line += "\\n";
    } else {
      line += c;
    }
  }
  return line;
}

}  // namespace

void log(LogLevel level, std::string_view message, LogFields fields) {
  // Started by systemd with stderr connected to the journal: send structured entries.
  static const bool journal = std::getenv("JOURNAL_STREAM") != nullptr;
  if (journal) {
    std::vector<std::string> parts = {"MESSAGE=" + one_line(message),
                                      "PRIORITY=" + std::to_string(static_cast<int>(level)),
                                      "SYSLOG_IDENTIFIER=touchpassd"};
    for (const auto& [name, value] : fields) {
      parts.push_back(std::string(name) + "=" + std::string(value));
    }
    std::vector<iovec> iov;
    for (auto& p : parts) iov.push_back({p.data(), p.size()});
    if (sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) == 0) return;
  }
  static std::mutex mu;
  std::string line = "touchpassd: ";
  if (level == LogLevel::error) line += "error: ";
  if (level == LogLevel::warning) line += "warning: ";
  line += one_line(message);
  line += '\n';
  std::lock_guard lock(mu);
  (void)!::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace touchpass::daemon
