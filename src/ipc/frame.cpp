#include "ipc/frame.h"

#include <openssl/crypto.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace touchpass::ipc {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The read-ahead buffer: a verify request, or a few small messages, at once.
constexpr std::size_t kReadAhead = 4096;

enum class ReadOutcome { done, closed, timed_out, failed };

// Milliseconds until `deadline` for poll(): -1 when unbounded, 0 when passed.
int poll_timeout(Clock::time_point deadline, bool bounded) {
  if (!bounded) return -1;
  const auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

// Waits until `fd` is readable (or writable with `events` = POLLOUT) before `deadline`.
ReadOutcome wait_for(int fd, short events, Clock::time_point deadline, bool bounded) {
  while (true) {
    pollfd pfd{fd, events, 0};
    const int ready = ::poll(&pfd, 1, poll_timeout(deadline, bounded));
    if (ready > 0) return ReadOutcome::done;
    if (ready == 0) return ReadOutcome::timed_out;
    if (errno != EINTR) return ReadOutcome::failed;
  }
}

// Reads exactly `size` bytes before `deadline` (unbounded: wait forever).
ReadOutcome read_exact(int fd, std::uint8_t* out, std::size_t size, Clock::time_point deadline,
                       bool bounded) {
  std::size_t got = 0;
  while (got < size) {
    if (auto w = wait_for(fd, POLLIN, deadline, bounded); w != ReadOutcome::done) return w;
    const ssize_t n = ::recv(fd, out + got, size - got, MSG_DONTWAIT);
    if (n == 0) return ReadOutcome::closed;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
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
      if (begun) return Error{Code::invalid_argument, "The message did not arrive in time."};
      return Error{Code::io_error, "Timed out waiting for a message."};
    default:
      return Error{Code::io_error,
                   std::string("Reading from the socket failed: ") + std::strerror(errno) + "."};
  }
}

struct Sizes {
  std::size_t json = 0;
  std::size_t secret = 0;
};

Result<Sizes> parse_header(const std::uint8_t* header) {
  const Sizes sizes{std::size_t{header[0]} << 24 | std::size_t{header[1]} << 16 |
                        std::size_t{header[2]} << 8 | std::size_t{header[3]},
                    std::size_t{header[4]} << 8 | std::size_t{header[5]}};
  if (sizes.json == 0 || sizes.json > kMaxJsonSize) {
    return Error{Code::invalid_argument, "The message size " + std::to_string(sizes.json) +
                                             " is out of range (1.." +
                                             std::to_string(kMaxJsonSize) + ")."};
  }
  if (sizes.secret > kMaxSecretSize) {
    return Error{Code::invalid_argument, "The secret part of the message is too long."};
  }
  return sizes;
}

// Reads one frame whose first byte must arrive before `first` (never mind when `first_bounded`
// is false) and whose rest must arrive before `rest_deadline(arrival of the first byte)`.
template <class RestDeadline>
Result<Frame> read_frame_within(int fd, Clock::time_point first, bool first_bounded,
                                RestDeadline rest_deadline) {
  std::array<std::uint8_t, kHeaderSize> header{};
  if (auto r = read_exact(fd, header.data(), 1, first, first_bounded); r != ReadOutcome::done) {
    return outcome_error(r, false);
  }
  const Clock::time_point deadline = rest_deadline(Clock::now());
  if (auto r = read_exact(fd, header.data() + 1, kHeaderSize - 1, deadline, true);
      r != ReadOutcome::done) {
    return outcome_error(r, true);
  }
  auto sizes = parse_header(header.data());
  if (!sizes.ok()) return sizes.error();
  Frame frame;
  frame.json.resize(sizes->json);
  if (auto r = read_exact(fd, reinterpret_cast<std::uint8_t*>(frame.json.data()), sizes->json,
                          deadline, true);
      r != ReadOutcome::done) {
    return outcome_error(r, true);
  }
  frame.secret = SecretBytes(sizes->secret);
  if (auto r = read_exact(fd, frame.secret.data(), sizes->secret, deadline, true);
      r != ReadOutcome::done) {
    return outcome_error(r, true);
  }
  return frame;
}

}  // namespace

Result<Frame> read_frame(int fd, const ReadLimits& limits) {
  return read_frame_within(fd, Clock::now() + std::max(limits.idle, milliseconds(0)),
                           limits.idle.count() >= 0,
                           [&](Clock::time_point begun) { return begun + limits.frame; });
}

Result<Frame> read_frame_by(int fd, std::chrono::steady_clock::time_point deadline) {
  return read_frame_within(fd, deadline, true, [&](Clock::time_point) { return deadline; });
}

FrameReader::FrameReader(int fd, bool blocking_waits)
    : fd_(fd), blocking_waits_(blocking_waits), buffer_(kReadAhead) {}

FrameReader::Fill FrameReader::fill(Clock::time_point deadline, bool bounded, bool poll_first) {
  if (start_ == end_) {
    start_ = end_ = 0;
  } else if (end_ == buffer_.size()) {  // compact: the unconsumed tail moves to the front
    const std::size_t n = end_ - start_;
    std::memmove(buffer_.data(), buffer_.data() + start_, n);
    OPENSSL_cleanse(buffer_.data() + n, end_ - n);
    start_ = 0;
    end_ = n;
  }
  if (poll_first && blocking_waits_ && (!bounded || deadline > Clock::now())) {
    while (true) {
      const ssize_t n = ::recv(fd_, buffer_.data() + end_, buffer_.size() - end_, 0);
      if (n > 0) {
        end_ += static_cast<std::size_t>(n);
        return Fill::more;
      }
      if (n == 0) return Fill::closed;
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        return errno == ECONNRESET ? Fill::closed : Fill::failed;
      }
      if (bounded && Clock::now() >= deadline) return Fill::timed_out;
    }
  }
  bool waited = !poll_first;
  while (true) {
    if (!waited) {
      switch (wait_for(fd_, POLLIN, deadline, bounded)) {
        case ReadOutcome::done:
          break;
        case ReadOutcome::timed_out:
          return Fill::timed_out;
        default:
          return Fill::failed;
      }
    }
    const ssize_t n = ::recv(fd_, buffer_.data() + end_, buffer_.size() - end_, MSG_DONTWAIT);
    if (n > 0) {
      end_ += static_cast<std::size_t>(n);
      return Fill::more;
    }
    if (n == 0) return Fill::closed;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      waited = false;
      continue;
    }
    if (errno == EINTR) continue;
    return errno == ECONNRESET ? Fill::closed : Fill::failed;
  }
}

std::size_t FrameReader::take(std::uint8_t* out, std::size_t size) {
  const std::size_t n = std::min(size, end_ - start_);
  if (n == 0) return 0;
  std::memcpy(out, buffer_.data() + start_, n);
  OPENSSL_cleanse(buffer_.data() + start_, n);
  start_ += n;
  return n;
}

Result<Frame> FrameReader::read(const ReadLimits& limits) {
  const auto to_outcome = [](Fill f) {
    switch (f) {
      case Fill::more:
        return ReadOutcome::done;
      case Fill::closed:
        return ReadOutcome::closed;
      case Fill::timed_out:
        return ReadOutcome::timed_out;
      default:
        return ReadOutcome::failed;
    }
  };
  if (start_ == end_) {
    const bool bounded = limits.idle.count() >= 0;
    const auto idle_deadline = Clock::now() + std::max(limits.idle, milliseconds(0));
    if (Fill f = fill(idle_deadline, bounded, true); f != Fill::more) {
      return outcome_error(to_outcome(f), false);
    }
  }
  const auto deadline = Clock::now() + limits.frame;
  while (end_ - start_ < kHeaderSize) {
    if (Fill f = fill(deadline, true, false); f != Fill::more) {
      return outcome_error(to_outcome(f), true);
    }
  }
  std::array<std::uint8_t, kHeaderSize> header{};
  take(header.data(), header.size());
  auto sizes = parse_header(header.data());
  if (!sizes.ok()) return sizes.error();

  Frame frame;
  frame.json.resize(sizes->json);
  frame.secret = SecretBytes(sizes->secret);
  // What was read ahead first, then the rest straight into place.
  const std::span<std::uint8_t> parts[2] = {
      {reinterpret_cast<std::uint8_t*>(frame.json.data()), frame.json.size()},
      frame.secret.bytes()};
  for (const auto& part : parts) {
    const std::size_t buffered = take(part.data(), part.size());
    if (auto r = read_exact(fd_, part.data() + buffered, part.size() - buffered, deadline, true);
        r != ReadOutcome::done) {
      return outcome_error(r, true);
    }
  }
  return frame;
}

namespace {

Status write_all(int fd, std::string_view json, std::span<const std::uint8_t> secret,
                 Clock::time_point deadline, bool bounded) {
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
  const int flags = MSG_NOSIGNAL | (bounded ? MSG_DONTWAIT : 0);
  while (remaining > 0) {
    const ssize_t n = ::sendmsg(fd, &msg, flags);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (bounded && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (wait_for(fd, POLLOUT, deadline, true) == ReadOutcome::done) continue;
        return Status(Code::io_error, "The peer did not take the message in time.");
      }
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

}  // namespace

Status write_frame(int fd, std::string_view json, std::span<const std::uint8_t> secret) {
  return write_all(fd, json, secret, Clock::time_point{}, false);
}

Status write_frame(int fd, std::string_view json, std::span<const std::uint8_t> secret,
                   std::chrono::milliseconds timeout) {
  return write_all(fd, json, secret, Clock::now() + timeout, true);
}

}  // namespace touchpass::ipc
