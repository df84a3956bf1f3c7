// InstanceLock: one touchpassd per store. The daemon holds an exclusive lock on a file beside
// the store (STORE.lock, which also names its pid) for as long as it runs; a second daemon on
// the same store refuses to start and says which process holds it.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>

#include "core/fd.h"
#include "core/status.h"

namespace touchpass::daemon {

class InstanceLock {
 public:
  // Takes the lock for `store`. Error invalid_argument naming the holder's pid when another
  // process holds it; io_error when the lock file cannot be opened.
  static Result<InstanceLock> acquire(const std::filesystem::path& store);

  // Destruction releases the lock (the file stays).
  InstanceLock(InstanceLock&& other) noexcept = default;
  InstanceLock& operator=(InstanceLock&&) = delete;

 private:
  explicit InstanceLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;  // the lock file, locked
};

// The pid of the process serving the Unix stream socket at `path`, if one accepts connections
// there (SO_PEERCRED of a probe connection).
std::optional<pid_t> socket_server_pid(const std::filesystem::path& path);

}  // namespace touchpass::daemon
