#include "daemon/instance_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace touchpass::daemon {

Result<InstanceLock> InstanceLock::acquire(const std::filesystem::path& store) {
  const std::filesystem::path path = store.string() + ".lock";
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) {
    return Error{Code::io_error,
                 "Cannot open " + path.string() + ": " + std::strerror(errno) + "."};
  }
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    char text[32] = {};
    const ssize_t n = ::pread(fd.get(), text, sizeof text - 1, 0);
    fd.reset();
    if (error != EWOULDBLOCK) {
      return Error{Code::io_error,
                   "Cannot lock " + path.string() + ": " + std::strerror(error) + "."};
    }
    const std::string holder = n > 0 ? std::string(text, static_cast<std::size_t>(n)) : "?";
    return Error{Code::invalid_argument,
                 "Another touchpassd (pid " + holder.substr(0, holder.find('\n')) +
                     ") is already using the store " + store.string() + "; stop it first."};
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) != 0 || ::pwrite(fd.get(), pid.data(), pid.size(), 0) < 0) {
    // The lock holds all the same; only the message of a second daemon is poorer.
  }
  return InstanceLock(std::move(fd));
}

std::optional<pid_t> socket_server_pid(const std::filesystem::path& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.native().size() >= sizeof addr.sun_path) return std::nullopt;
  std::memcpy(addr.sun_path, path.c_str(), path.native().size() + 1);
  const UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return std::nullopt;
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 &&
      errno != EAGAIN) {
    return std::nullopt;
  }
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred) {
    return std::nullopt;
  }
  return cred.pid;
}

}  // namespace touchpass::daemon
