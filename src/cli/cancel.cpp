#include "cli/cancel.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <csignal>

namespace touchpass::cli {

namespace {

static_assert(std::atomic<bool>::is_always_lock_free &&
                  std::atomic<CancelFlag*>::is_always_lock_free,
              "the signal handler needs lock-free atomics");

constexpr std::array<int, 4> kCancelSignals = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

std::atomic<CancelFlag*> g_flag{nullptr};
std::array<struct sigaction, kCancelSignals.size()> g_previous{};

void on_cancel_signal(int /*signal*/) {
  if (CancelFlag* flag = g_flag.load()) flag->raise();
}

}  // namespace

CancelFlag::CancelFlag() {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) == 0) {
    read_end_.reset(pipe_fds[0]);
    write_end_.reset(pipe_fds[1]);
  }
}

void CancelFlag::raise() noexcept {
  if (raised_.exchange(true)) return;
  if (write_end_.valid()) {
    const char byte = 1;
    (void)!::write(write_end_.get(), &byte, 1);
  }
}

SignalCancelScope::SignalCancelScope(CancelFlag& flag) {
  g_flag.store(&flag);
  struct sigaction action {};
  action.sa_handler = on_cancel_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: a blocked call returns EINTR and sees the flag
  for (std::size_t i = 0; i < kCancelSignals.size(); ++i) {
    ::sigaction(kCancelSignals[i], &action, &g_previous[i]);
  }
}

SignalCancelScope::~SignalCancelScope() {
  for (std::size_t i = 0; i < kCancelSignals.size(); ++i) {
    ::sigaction(kCancelSignals[i], &g_previous[i], nullptr);
  }
  g_flag.store(nullptr);
}

}  // namespace touchpass::cli
