#include "cli/prompt.h"

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "cli/fd.h"
#include "cli/format.h"

namespace touchpass::cli {

namespace {

constexpr int kCancelPollMs = 250;
constexpr int kNewPinAttempts = 3;

// Turns echo off on terminal `fd` for its lifetime and restores the saved modes on every
// path (normal return, error, or a cancel signal, which only raises a flag). Does nothing when
// `fd` is not a terminal.
class EchoOff {
 public:
  explicit EchoOff(int fd) : fd_(fd) {
    if (::tcgetattr(fd_, &saved_) != 0) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHOE | ECHOK | ECHONL);
    active_ = set(quiet, TCSAFLUSH);  // also drops anything typed ahead of the prompt
  }
  ~EchoOff() {
    if (active_) (void)set(saved_, TCSANOW);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  bool set(const termios& modes, int when) {
    while (::tcsetattr(fd_, when, &modes) != 0) {
      if (errno != EINTR) return false;
    }
    return true;
  }

  int fd_;
  termios saved_{};
  bool active_ = false;
};

// Waits until `fd` is readable (or at its end). Errors: cancelled, io_error.
Status wait_readable(int fd, const CancelFlag& cancel) {
  while (true) {
    if (cancel.raised()) return Status(Code::cancelled, "Cancelled.");
    pollfd fds[2] = {{fd, POLLIN, 0}, {cancel.wake_fd(), POLLIN, 0}};
    const int ready = ::poll(fds, cancel.wake_fd() >= 0 ? 2 : 1, kCancelPollMs);
    if (ready < 0 && errno != EINTR) {
      return Status(Code::io_error,
                    std::string("Waiting for input failed: ") + std::strerror(errno) + ".");
    }
    if (cancel.raised()) return Status(Code::cancelled, "Cancelled.");
    if (ready > 0 && fds[0].revents != 0) return {};
  }
}

std::string tries_left(int retries) {
  return std::to_string(retries) + (retries == 1 ? " try left" : " tries left");
}

Error no_pin_entered() {
  return Error{Code::pin_required, "No PIN was entered."};
}

Error no_terminal() {
  return Error{Code::pin_required,
               "A PIN is needed but there is no terminal to ask on; use --pin-stdin."};
}

}  // namespace

Result<SecretBytes> read_secret_line(int fd, const CancelFlag& cancel, std::size_t max_bytes) {
  // Room for the longest line plus "\r\n".
  SecretBytes line(max_bytes + 2);
  std::size_t n = 0;
  while (true) {
    if (n == line.size()) return Error{Code::pin_policy, "The PIN is too long."};
    if (Status s = wait_readable(fd, cancel); !s.ok()) return s.error();
    const ssize_t got = ::read(fd, line.data() + n, 1);
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return Error{Code::io_error,
                   std::string("Reading the PIN failed: ") + std::strerror(errno) + "."};
    }
    if (got == 0) {
      if (n == 0) return Error{Code::pin_required, "The input ended before a PIN was read."};
      break;
    }
    if (line.data()[n] == '\n') break;
    ++n;
  }
  if (n > 0 && line.data()[n - 1] == '\r') --n;
  if (n > max_bytes) return Error{Code::pin_policy, "The PIN is too long."};
  line.truncate(n);
  return line;
}

TerminalPinSource::TerminalPinSource(UniqueFd tty, const CancelFlag& cancel)
    : tty_(std::move(tty)), cancel_(cancel) {}

void TerminalPinSource::say(std::string_view text) {
  write_all(tty_.get(), text);
}

Result<SecretBytes> TerminalPinSource::ask(std::string_view prompt) {
  EchoOff quiet(tty_.get());
  say(prompt);
  auto pin = read_secret_line(tty_.get(), cancel_, kMaxPinBytes);
  say("\n");  // the Enter key was not echoed
  return pin;
}

Result<SecretBytes> TerminalPinSource::current_pin(std::optional<int> retries) {
  auto pin = ask(retries ? "Enter the PIN of your security key (" + tries_left(*retries) + "): "
                         : std::string("Enter the PIN of your security key: "));
  if (pin.ok() && pin->empty()) return no_pin_entered();
  return pin;
}

Result<SecretBytes> TerminalPinSource::new_pin(int min_length) {
  const std::string rule = "at least " + std::to_string(min_length) + " characters";
  std::string prompt = "This security key has no PIN yet. Choose a PIN (" + rule + "): ";
  for (int attempt = 0; attempt < kNewPinAttempts; ++attempt) {
    auto first = ask(prompt);
    if (!first.ok()) return first;
    prompt = "Choose a PIN (" + rule + "): ";
    if (count_characters(first->view()) < static_cast<std::size_t>(min_length)) {
      say("That PIN is too short.\n");
      continue;
    }
    auto second = ask("Enter the same PIN again: ");
    if (!second.ok()) return second;
    if (!first->equals(second->bytes())) {
      say("The two PINs do not match.\n");
      continue;
    }
    return first;
  }
  return Error{Code::pin_policy,
               "No PIN was set: the PINs entered were too short or did not match."};
}

Result<SecretBytes> LinePinSource::current_pin(std::optional<int> /*retries*/) {
  auto pin = read_secret_line(fd_, cancel_, kMaxPinBytes);
  if (pin.ok() && pin->empty()) return no_pin_entered();
  return pin;
}

Result<SecretBytes> LinePinSource::new_pin(int min_length) {
  auto pin = read_secret_line(fd_, cancel_, kMaxPinBytes);
  if (!pin.ok()) return pin;
  if (count_characters(pin->view()) < static_cast<std::size_t>(min_length)) {
    return Error{Code::pin_policy,
                 "The new PIN must have at least " + std::to_string(min_length) + " characters."};
  }
  return pin;
}

Result<SecretBytes> NoTerminalPinSource::current_pin(std::optional<int> /*retries*/) {
  return no_terminal();
}

Result<SecretBytes> NoTerminalPinSource::new_pin(int /*min_length*/) {
  return no_terminal();
}

std::unique_ptr<PinSource> make_pin_source(bool pin_stdin, const CancelFlag& cancel) {
  if (pin_stdin) return std::make_unique<LinePinSource>(STDIN_FILENO, cancel);
  UniqueFd tty(::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!tty.valid()) return std::make_unique<NoTerminalPinSource>();
  return std::make_unique<TerminalPinSource>(std::move(tty), cancel);
}

}  // namespace touchpass::cli
