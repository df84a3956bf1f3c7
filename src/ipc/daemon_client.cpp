#include "ipc/daemon_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include "ipc/frame.h"
#include "ipc/paging.h"

namespace touchpass::ipc {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// The daemon may take this long between the bytes of one message (PROTOCOL.md: 5 s).
constexpr std::chrono::milliseconds kStall = 5000ms;

Error malformed(std::string_view what) {
  return Error{Code::protocol_error,
               "touchpassd sent a malformed message (" + std::string(what) + ")."};
}

// One request and its replies. See exchange().
class Exchange {
 public:
  Exchange(int fd, const Request& request, std::span<const std::uint8_t> secret,
           const ExchangeOptions& options)
      : fd_(fd), request_(request), secret_(secret), options_(options) {}

  Result<DaemonAnswer> run();

 private:
  enum class Wait { readable, idle, failed };

  Wait wait_for_message();
  bool cancelled() const { return options_.cancelled && options_.cancelled(); }

  int fd_;
  const Request& request_;
  std::span<const std::uint8_t> secret_;  // the request's secret part
  const ExchangeOptions& options_;
  PageAssembler pages_;  // pieces of a large answer
};

Result<DaemonAnswer> Exchange::run() {
  if (Status s = write_frame(fd_, request_.to_json(), secret_); !s.ok()) {
    return Error{Code::io_error, "Sending the request to touchpassd failed: " + s.error().message};
  }
  const Clock::time_point deadline = Clock::now() + options_.reply_timeout;
  while (true) {
    // No request waits for a key or a person, so a cancel only stops waiting for the answer.
    if (cancelled()) return Error{Code::cancelled, "Cancelled."};
    const Wait wait = wait_for_message();
    if (wait == Wait::failed) {
      return Error{Code::io_error,
                   std::string("Waiting for touchpassd failed: ") + std::strerror(errno) + "."};
    }
    if (wait == Wait::idle) {
      if (Clock::now() < deadline) continue;
      return Error{Code::io_error, "touchpassd did not answer in time."};
    }
    auto frame = read_frame(fd_, {0ms, kStall});
    if (!frame.ok()) {
      // The user's cancel is the news, even if the connection ended meanwhile.
      if (cancelled()) return Error{Code::cancelled, "Cancelled."};
      if (frame.code() == Code::not_found) {
        return Error{Code::io_error, "touchpassd closed the connection without answering."};
      }
      return Error{Code::io_error, "The connection to touchpassd broke: " + frame.error().message};
    }
    auto reply = Reply::parse(frame->json);
    if (!reply.ok()) return malformed(reply.error().message);
    switch (reply->kind) {
      case Reply::Kind::ok:
        if (Status s = pages_.complete(reply->body); !s.ok()) return malformed(s.message());
        return DaemonAnswer{std::move(reply->body), std::move(frame->secret)};
      case Reply::Kind::error:
        return reply->error;
      case Reply::Kind::event:
        if (reply->event != kMoreEvent) {
          return malformed("an event other than \"more\" answers a request without events");
        }
        // A piece of a large answer (paging.h).
        if (Status s = pages_.absorb(std::move(reply->body)); !s.ok()) {
          return malformed(s.message());
        }
        break;
    }
  }
}

Exchange::Wait Exchange::wait_for_message() {
  pollfd fds[2] = {{fd_, POLLIN, 0}, {options_.wake_fd, POLLIN, 0}};
  const int ready =
      ::poll(fds, options_.wake_fd >= 0 ? 2 : 1, static_cast<int>(options_.poll_interval.count()));
  if (ready < 0) return errno == EINTR ? Wait::idle : Wait::failed;
  return fds[0].revents != 0 ? Wait::readable : Wait::idle;
}

}  // namespace

Result<UniqueFd> connect_to_daemon(const std::string& path, std::chrono::milliseconds timeout) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof address.sun_path) {
    return Error{Code::io_error, "The socket path \"" + path + "\" is not usable."};
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return Error{Code::io_error,
                 std::string("Cannot create a socket: ") + std::strerror(errno) + "."};
  }
  // A full queue of connections makes connect wait; on a Unix socket it waits at most the
  // send timeout, which is reset afterwards (the exchange keeps its own deadlines).
  const auto set_send_timeout = [&fd](std::chrono::milliseconds t) {
    timeval tv{static_cast<time_t>(t.count() / 1000),
               static_cast<suseconds_t>((t.count() % 1000) * 1000)};
    return ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0;
  };
  if (timeout.count() > 0 && !set_send_timeout(timeout)) {
    return Error{Code::io_error,
                 std::string("Cannot set up a socket: ") + std::strerror(errno) + "."};
  }
  int connected = -1;
  do {
    connected = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address);
  } while (connected != 0 && errno == EINTR);
  if (connected != 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINPROGRESS) {
      return Error{Code::busy, "touchpassd did not take the connection within " +
                                   std::to_string((timeout.count() + 999) / 1000) +
                                   " s (it is overloaded); try again later."};
    }
    if (errno == EACCES || errno == EPERM) {
      return Error{Code::permission_denied,
                   "You may not use touchpassd (permission denied on " + path + ")."};
    }
    if (errno == ENOENT || errno == ECONNREFUSED || errno == ENOTDIR) {
      return Error{Code::io_error, "touchpassd is not running (cannot connect to " + path + ")."};
    }
    return Error{Code::io_error,
                 "Cannot connect to touchpassd at " + path + ": " + std::strerror(errno) + "."};
  }
  if (timeout.count() > 0) (void)set_send_timeout(std::chrono::milliseconds(0));
  return fd;
}

Result<DaemonAnswer> exchange(int fd, const Request& request, std::span<const std::uint8_t> secret,
                              const ExchangeOptions& options) {
  return Exchange(fd, request, secret, options).run();
}

}  // namespace touchpass::ipc
