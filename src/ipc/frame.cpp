#include "ipc/frame.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace touchpass::ipc {

namespace {

using Clock = std::chrono::steady_clock;

enum class ReadOutcome { done, closed, timed_out, failed };

// Reads exactly `size` bytes, each wait bounded by `timeout` (negative: forever).
ReadOutcome read_exact(int fd, std::uint8_t* out, std::size_t size,
                       std::chrono::milliseconds timeout) {
  std::size_t got = 0;
  while (got < size) {
    pollfd pfd{fd, POLLIN, 0};
    const int wait = timeout.count() < 0 ? -1 : static_cast<int>(timeout.count());
    const int ready = ::poll(&pfd, 1, wait);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return ReadOutcome::failed;
    }
    if (ready == 0) return ReadOutcome::timed_out;
    const ssize_t n = ::recv(fd, out + got, size - got, 0);
    if (n == 0) return ReadOutcome::closed;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return errno == ECONNRESET ? ReadOutcome::closed : ReadOutcome::failed;
    }
    got += static_cast<std::size_t>(n);
  }
  return ReadOutcome::done;
}

Error outcome_error(ReadOutcome outcome, bool begun) {
  switch (outcome) {
    case ReadOutcome::closed:
      if (!begun) return Error{Code::not_found, "The connection was closed."};
      return Error{Code::invalid_argument, "The connection was closed in the middle of a message."};
    case ReadOutcome::timed_out:
      if (begun) return Error{Code::invalid_argument, "The message stalled half-way."};
      return Error{Code::io_error, "Timed out waiting for a message."};
    default:
      return Error{Code::io_error,
                   std::string("Reading from the socket failed: ") + std::strerror(errno) + "."};
  }
}

}  // namespace

Result<Frame> read_frame(int fd, const ReadLimits& limits) {
  std::array<std::uint8_t, kHeaderSize> header{};
  // The first byte waits up to `idle`; everything after it up to `stall` per chunk.
  if (auto r = read_exact(fd, header.data(), 1, limits.idle); r != ReadOutcome::done) {
    return outcome_error(r, false);
  }
  if (auto r = read_exact(fd, header.data() + 1, kHeaderSize - 1, limits.stall);
      r != ReadOutcome::done) {
    return outcome_error(r, true);
  }
  const std::size_t json_size = std::size_t{header[0]} << 24 | std::size_t{header[1]} << 16 |
                                std::size_t{header[2]} << 8 | std::size_t{header[3]};
  const std::size_t secret_size = std::size_t{header[4]} << 8 | std::size_t{header[5]};
  if (json_size == 0 || json_size > kMaxJsonSize) {
    return Error{Code::invalid_argument, "The message size " + std::to_string(json_size) +
                                             " is out of range (1.." +
                                             std::to_string(kMaxJsonSize) + ")."};
  }
  if (secret_size > kMaxSecretSize) {
    return Error{Code::invalid_argument, "The secret part of the message is too long."};
  }
  Frame frame;
  frame.json.resize(json_size);
  if (auto r = read_exact(fd, reinterpret_cast<std::uint8_t*>(frame.json.data()), json_size,
                          limits.stall);
      r != ReadOutcome::done) {
    return outcome_error(r, true);
  }
  frame.secret = SecretBytes(secret_size);
  if (auto r = read_exact(fd, frame.secret.data(), secret_size, limits.stall);
      r != ReadOutcome::done) {
    return outcome_error(r, true);
  }
  return frame;
}

Status write_frame(int fd, std::string_view json, std::span<const std::uint8_t> secret) {
  if (json.empty() || json.size() > kMaxJsonSize || secret.size() > kMaxSecretSize) {
    return Status(Code::internal, "An outgoing message exceeds the protocol limits.");
  }
  std::array<std::uint8_t, kHeaderSize> header{
      static_cast<std::uint8_t>(json.size() >> 24),  static_cast<std::uint8_t>(json.size() >> 16),
      static_cast<std::uint8_t>(json.size() >> 8),   static_cast<std::uint8_t>(json.size()),
      static_cast<std::uint8_t>(secret.size() >> 8), static_cast<std::uint8_t>(secret.size())};
  iovec parts[3] = {{header.data(), header.size()},
                    {const_cast<char*>(json.data()), json.size()},
                    {const_cast<std::uint8_t*>(secret.data()), secret.size()}};
  msghdr msg{};
  msg.msg_iov = parts;
  msg.msg_iovlen = secret.empty() ? 2 : 3;
  std::size_t remaining = header.size() + json.size() + secret.size();
  while (remaining > 0) {
    const ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status(Code::io_error,
                    std::string("Writing to the socket failed: ") + std::strerror(errno) + ".");
    }
    remaining -= static_cast<std::size_t>(n);
    // Advance the iovecs past what was sent (rare: only on a short write).
    std::size_t sent = static_cast<std::size_t>(n);
    while (sent > 0 && msg.msg_iovlen > 0) {
      if (sent >= msg.msg_iov->iov_len) {
        sent -= msg.msg_iov->iov_len;
        ++msg.msg_iov;
        --msg.msg_iovlen;
      } else {
        msg.msg_iov->iov_base = static_cast<char*>(msg.msg_iov->iov_base) + sent;
        msg.msg_iov->iov_len -= sent;
        sent = 0;
      }
    }
  }
  return {};
}

}  // namespace touchpass::ipc
