#include "devices/fido2/socket_io.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>

namespace touchpass::devices::fido2 {
namespace {

constexpr std::size_t kReportSize = 64;               // one CTAPHID report, without report id
constexpr std::chrono::milliseconds kBudgetSlack{2};  // libfido2 rounds elapsed time down to ms

// One open connection to a virtual token. Owned by libfido2 between open and close.
struct SocketHandle {
  int fd = -1;
  std::atomic<bool> timed_out{false};
  std::atomic<bool> peer_closed{false};
};

thread_local int last_open_errno = 0;

bool fill_address(const char* path, sockaddr_un& address) {
  std::memset(&address, 0, sizeof(address));
  address.sun_family = AF_UNIX;
  const std::size_t length = std::strlen(path);
  if (length == 0 || length >= sizeof(address.sun_path)) return false;
  std::memcpy(address.sun_path, path, length);
  return true;
}

bool is_disconnect(int error) {
  return error == ECONNRESET || error == EPIPE;
}

void* socket_open(const char* path) {
  last_open_errno = 0;
  sockaddr_un address;
  if (path == nullptr || !fill_address(path, address)) {
    last_open_errno = ENAMETOOLONG;
    return nullptr;
  }
  const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    last_open_errno = errno;
    return nullptr;
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    last_open_errno = errno;
    ::close(fd);
    return nullptr;
  }
  auto* handle = new SocketHandle;
  handle->fd = fd;
  return handle;
}

void socket_close(void* opaque) {
  auto* handle = static_cast<SocketHandle*>(opaque);
  if (handle == nullptr) return;
  ::close(handle->fd);
  delete handle;
}

// Receives one report within `ms` milliseconds (-1: no limit). Returns 64, or -1 on timeout (flag
// timed_out), on EOF or reset (flag peer_closed), or when the message is not one 64-byte report.
int socket_read(void* opaque, unsigned char* buf, std::size_t len, int ms) {
  auto* handle = static_cast<SocketHandle*>(opaque);
  if (handle == nullptr || buf == nullptr || len < kReportSize) return -1;

  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(ms < 0 ? 0 : ms);
  for (;;) {
    int wait_ms = -1;
    if (ms >= 0) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      wait_ms = left > 0 ? static_cast<int>(left) : 0;
    }
    pollfd pfd{handle->fd, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, wait_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (ready == 0) {
      handle->timed_out = true;
      return -1;
    }

    std::uint8_t report[kReportSize];
    iovec iov{report, sizeof(report)};
    msghdr message{};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    const ssize_t n = ::recvmsg(handle->fd, &message, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      if (is_disconnect(errno)) handle->peer_closed = true;
      return -1;
    }
    if (n == 0) {  // orderly shutdown: the token went away
      handle->peer_closed = true;
      return -1;
    }
    if ((message.msg_flags & MSG_TRUNC) != 0 || static_cast<std::size_t>(n) != kReportSize)
      return -1;
    // libfido2 ends the call itself when a report arrives after its budget is spent; mark that
    // too, so that the failure is known to be a timeout (no effect when the call succeeds).
    if (ms >= 0 && Clock::now() + kBudgetSlack >= deadline) handle->timed_out = true;
    std::memcpy(buf, report, kReportSize);
    return static_cast<int>(kReportSize);
  }
}

// Sends buf[1..64] (buf[0] is the report id 0, which the virtual transport does not carry).
// Returns len (65) or -1; a vanished peer sets peer_closed.
int socket_write(void* opaque, const unsigned char* buf, std::size_t len) {
  auto* handle = static_cast<SocketHandle*>(opaque);
  if (handle == nullptr || buf == nullptr || len != kReportSize + 1) return -1;
  for (;;) {
    const ssize_t n = ::send(handle->fd, buf + 1, kReportSize, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (is_disconnect(errno)) handle->peer_closed = true;
      return -1;
    }
    if (static_cast<std::size_t>(n) != kReportSize) return -1;
    return static_cast<int>(len);
  }
}

const fido_dev_io_t kSocketIo = {socket_open, socket_close, socket_read, socket_write};

}  // namespace

const fido_dev_io_t& virtual_socket_io() {
  return kSocketIo;
}

SocketIoFlags socket_io_flags(const void* opaque) {
  const auto* handle = static_cast<const SocketHandle*>(opaque);
  if (handle == nullptr) return {};
  return SocketIoFlags{handle->timed_out.load(), handle->peer_closed.load()};
}

void reset_socket_io_flags(void* opaque) {
  auto* handle = static_cast<SocketHandle*>(opaque);
  if (handle == nullptr) return;
  handle->timed_out = false;
  handle->peer_closed = false;
}

int socket_io_last_open_errno() {
  return last_open_errno;
}

bool virtual_socket_accepts(const std::string& path) {
  sockaddr_un address;
  if (!fill_address(path.c_str(), address)) return false;
  const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return false;
  const int r = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  // EACCES: a token is listening there but is not this user's to use (the caller decides
  // what to say about it); ECONNREFUSED or ENOENT: a stopped token's leftover socket file.
  const bool accepts = r == 0 || errno == EINPROGRESS || errno == EAGAIN || errno == EACCES;
  ::close(fd);
  return accepts;
}

}  // namespace touchpass::devices::fido2
