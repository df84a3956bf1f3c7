#include "devices/fido2/report_io.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <span>

#include "core/fd.h"
#include "devices/fido2/cbor_answer_check.h"

namespace touchpass::devices::fido2 {
namespace {

constexpr std::size_t kReportSize = 64;               // one CTAPHID report, without report id
constexpr std::chrono::milliseconds kBudgetSlack{2};  // libfido2 rounds elapsed time down to ms

// CTAPHID framing of an initialization packet: channel id (4), command with bit 7 set, payload
// length (2), payload. CTAPHID_CBOR's payload starts with the CTAP command byte.
constexpr std::size_t kCommandOffset = 4;
constexpr std::uint8_t kCtapHidCbor = 0x90;
constexpr std::size_t kCtapCommandOffset = 7;
constexpr std::uint8_t kMakeCredential = 0x01;
constexpr std::uint8_t kGetAssertion = 0x02;

enum class Kind { hidraw, socket };

// One open connection to a token. Owned by libfido2 between open and close.
struct ReportHandle {
  ReportHandle(UniqueFd f, Kind k) : fd(std::move(f)), kind(k) {}
  UniqueFd fd;
  Kind kind;
  std::atomic<bool> timed_out{false};
  std::atomic<bool> peer_closed{false};
  std::atomic<bool> malformed_answer{false};
  std::atomic<std::uint8_t> last_ctap_request{0};  // of the last CTAPHID_CBOR request sent
  std::function<void()> touch_hook;                // used by the operation's thread only
  CborAnswerCheck answers;                         // used by the reading thread only
};

thread_local int last_open_errno = 0;
thread_local bool refused_answer_since_open = false;

bool fill_address(const char* path, sockaddr_un& address) {
  std::memset(&address, 0, sizeof(address));
  address.sun_family = AF_UNIX;
  const std::size_t length = std::strlen(path);
  if (length == 0 || length >= sizeof(address.sun_path)) return false;
  std::memcpy(address.sun_path, path, length);
  return true;
}

bool is_disconnect(int error) {
  return error == ECONNRESET || error == EPIPE || error == ENODEV;
}

void* opened(UniqueFd fd, Kind kind) {
  return new ReportHandle(std::move(fd), kind);
}

void* socket_open(const char* path) {
  last_open_errno = 0;
  refused_answer_since_open = false;
  sockaddr_un address;
  if (path == nullptr || !fill_address(path, address)) {
    last_open_errno = ENAMETOOLONG;
    return nullptr;
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd.valid() ||
      ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    last_open_errno = errno;
    return nullptr;
  }
  return opened(std::move(fd), Kind::socket);
}

void* hidraw_open(const char* path) {
  last_open_errno = 0;
  refused_answer_since_open = false;
  if (path == nullptr) {
    last_open_errno = ENOENT;
    return nullptr;
  }
  UniqueFd fd(::open(path, O_RDWR | O_CLOEXEC));
  if (!fd.valid()) {
    last_open_errno = errno;
    return nullptr;
  }
  // Only a character device is a HID node: a regular file or FIFO put at the path is not a key.
  struct stat status {};
  if (::fstat(fd.get(), &status) != 0 || !S_ISCHR(status.st_mode)) {
    last_open_errno = ENODEV;
    return nullptr;
  }
  // One program at a time, as with libfido2's own I/O: two clients' CTAPHID transactions would
  // interleave otherwise.
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    last_open_errno = errno == EWOULDBLOCK ? EBUSY : errno;
    return nullptr;
  }
  return opened(std::move(fd), Kind::hidraw);
}

void report_close(void* opaque) {
  delete static_cast<ReportHandle*>(opaque);
}

// Receives one message: a report of exactly 64 bytes, or -1 (not a report), or -2 (try again).
ssize_t receive_report(ReportHandle& handle, std::uint8_t* report) {
  // One byte more than a report: a longer message shows as truncated or as 65 bytes.
  std::uint8_t buffer[kReportSize + 1];
  ssize_t n = 0;
  bool truncated = false;
  if (handle.kind == Kind::socket) {
    iovec iov{buffer, sizeof(buffer)};
    msghdr message{};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    n = ::recvmsg(handle.fd.get(), &message, MSG_DONTWAIT);
    truncated = (message.msg_flags & MSG_TRUNC) != 0;
  } else {
    n = ::read(handle.fd.get(), buffer, sizeof(buffer));
  }
  if (n < 0) {
    if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) return -2;
    if (is_disconnect(errno)) handle.peer_closed = true;
    return -1;
  }
  if (n == 0) {  // orderly shutdown: the token went away
    handle.peer_closed = true;
    return -1;
  }
  if (truncated || static_cast<std::size_t>(n) != kReportSize) return -1;
  std::memcpy(report, buffer, kReportSize);
  return static_cast<ssize_t>(kReportSize);
}

// Receives one report within `ms` milliseconds (-1: no limit). Returns 64, or -1 on timeout (flag
// timed_out), when the token went away (flag peer_closed), or when the message is not one 64-byte
// report.
int report_read(void* opaque, unsigned char* buf, std::size_t len, int ms) {
  auto* handle = static_cast<ReportHandle*>(opaque);
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
    pollfd pfd{handle->fd.get(), POLLIN, 0};
    const int ready = ::poll(&pfd, 1, wait_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (ready == 0) {
      handle->timed_out = true;
      return -1;
    }
    if ((pfd.revents & (POLLERR | POLLNVAL)) != 0 && (pfd.revents & POLLIN) == 0) {
      handle->peer_closed = true;  // a hidraw node whose device was unplugged
      return -1;
    }
    const ssize_t n = receive_report(*handle, buf);
    if (n == -2) continue;
    if (n < 0) return -1;
    if (!handle->answers.accept(std::span<const std::uint8_t, kReportSize>(buf, kReportSize),
                                handle->last_ctap_request.load())) {
      // Withheld: libfido2 fails the exchange instead of decoding a hostile answer.
      handle->malformed_answer = true;
      refused_answer_since_open = true;
      return -1;
    }
    // libfido2 ends the call itself when a report arrives after its budget is spent; mark that
    // too, so that the failure is known to be a timeout (no effect when the call succeeds).
    if (ms >= 0 && Clock::now() + kBudgetSlack >= deadline) handle->timed_out = true;
    return static_cast<int>(kReportSize);
  }
}

// Notes the CTAP command of a CTAPHID_CBOR request that starts with `report` (the answer check
// reads its answer accordingly) and tells the armed touch hook, once, that a request needing a
// touch starts.
void notice_request(ReportHandle& handle, const unsigned char* report) {
  if (report[kCommandOffset] != kCtapHidCbor) return;
  const std::uint8_t command = report[kCtapCommandOffset];
  handle.last_ctap_request = command;
  if (!handle.touch_hook) return;
  if (command != kMakeCredential && command != kGetAssertion) return;
  auto hook = std::move(handle.touch_hook);
  handle.touch_hook = nullptr;
  hook();
}

// Sends one report: buf[0] is the report id 0 (written to a hidraw node, not carried by the
// virtual transport), buf[1..64] the report. Returns len (65) or -1; a vanished token sets
// peer_closed.
int report_write(void* opaque, const unsigned char* buf, std::size_t len) {
  auto* handle = static_cast<ReportHandle*>(opaque);
  if (handle == nullptr || buf == nullptr || len != kReportSize + 1) return -1;
  notice_request(*handle, buf + 1);
  const bool socket = handle->kind == Kind::socket;
  const unsigned char* data = socket ? buf + 1 : buf;
  const std::size_t size = socket ? kReportSize : len;
  for (;;) {
    const ssize_t n = socket ? ::send(handle->fd.get(), data, size, MSG_NOSIGNAL)
                             : ::write(handle->fd.get(), data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (is_disconnect(errno)) handle->peer_closed = true;
      return -1;
    }
    if (static_cast<std::size_t>(n) != size) return -1;
    return static_cast<int>(len);
  }
}

const fido_dev_io_t kHidrawIo = {hidraw_open, report_close, report_read, report_write};
const fido_dev_io_t kSocketIo = {socket_open, report_close, report_read, report_write};

}  // namespace

const fido_dev_io_t& hidraw_io() {
  return kHidrawIo;
}

const fido_dev_io_t& virtual_socket_io() {
  return kSocketIo;
}

ReportIoFlags report_io_flags(const void* opaque) {
  const auto* handle = static_cast<const ReportHandle*>(opaque);
  if (handle == nullptr) return {};
  return ReportIoFlags{handle->timed_out.load(), handle->peer_closed.load(),
                       handle->malformed_answer.load()};
}

void reset_report_io_flags(void* opaque) {
  auto* handle = static_cast<ReportHandle*>(opaque);
  if (handle == nullptr) return;
  handle->timed_out = false;
  handle->peer_closed = false;
  handle->malformed_answer = false;
}

void arm_touch_hook(void* opaque, std::function<void()> hook) {
  auto* handle = static_cast<ReportHandle*>(opaque);
  if (handle != nullptr) handle->touch_hook = std::move(hook);
}

int report_io_last_open_errno() {
  return last_open_errno;
}

bool report_io_refused_answer_since_open() {
  return refused_answer_since_open;
}

bool virtual_socket_accepts(const std::string& path) {
  sockaddr_un address;
  if (!fill_address(path.c_str(), address)) return false;
  const UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return false;
  const int r = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  // EACCES: a token is listening there but is not this user's to use (the caller decides
  // what to say about it); ECONNREFUSED or ENOENT: a stopped token's leftover socket file.
  return r == 0 || errno == EINPROGRESS || errno == EAGAIN || errno == EACCES;
}

}  // namespace touchpass::devices::fido2
