#include "cli/console.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "cli/fd.h"

namespace touchpass::cli {

void StdConsole::out(std::string_view text) {
  write_all(STDOUT_FILENO, text);
}

void StdConsole::err(std::string_view text) {
  write_all(STDERR_FILENO, text);
}

void StdConsole::out_secret(std::string_view secret) {
  write_all(STDOUT_FILENO, secret);
}

bool StdConsole::err_is_terminal() const {
  return ::isatty(STDERR_FILENO) == 1;
}

std::optional<bool> StdConsole::confirm(std::string_view question) {
  UniqueFd tty(::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!tty.valid()) return std::nullopt;
  write_all(tty.get(), question);
  char first = '\0';
  char c = '\0';
  bool at_start = true;
  while (true) {
    const ssize_t n = ::read(tty.get(), &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\n') break;
    if (at_start) first = c;
    at_start = false;
  }
  return first == 'y' || first == 'Y';
}

}  // namespace touchpass::cli
