// Cancelling an interactive operation. A CancelFlag is raised once (by Ctrl-C, by a test, ...)
// and stays raised; anything that waits (the reply loop, a PIN prompt) polls its wake_fd()
// beside its own descriptor, so it wakes at once. SignalCancelScope routes SIGINT, SIGTERM,
// SIGHUP and SIGQUIT to a flag while it lives, so those signals end the operation through the
// normal return paths (sending `cancel`, restoring the terminal) instead of killing the process.
#pragma once

#include <atomic>

#include "core/fd.h"

namespace touchpass::cli {

class CancelFlag {
 public:
  // Creates the wake pipe (non-blocking, close-on-exec). If that fails the flag still works,
  // and waiters notice it by polling with a short timeout.
  CancelFlag();
  CancelFlag(const CancelFlag&) = delete;
  CancelFlag& operator=(const CancelFlag&) = delete;

  // Raises the flag and makes wake_fd() readable. Async-signal-safe.
  void raise() noexcept;
  bool raised() const noexcept { return raised_.load(); }
  // Readable once raised; -1 if the pipe could not be created. Never read it: it stays readable.
  int wake_fd() const { return read_end_.get(); }

 private:
  std::atomic<bool> raised_{false};
  UniqueFd read_end_;   // of the wake pipe
  UniqueFd write_end_;  // written once by raise()
};

// While alive, SIGINT, SIGTERM, SIGHUP and SIGQUIT raise `flag` instead of their default
// action; the previous actions are restored on destruction. At most one scope at a time.
class SignalCancelScope {
 public:
  explicit SignalCancelScope(CancelFlag& flag);
  ~SignalCancelScope();
  SignalCancelScope(const SignalCancelScope&) = delete;
  SignalCancelScope& operator=(const SignalCancelScope&) = delete;
};

}  // namespace touchpass::cli
