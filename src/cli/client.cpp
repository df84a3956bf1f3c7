#include "cli/client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "cli/event_text.h"
#include "cli/format.h"
#include "ipc/frame.h"
#include "ipc/paging.h"

namespace touchpass::cli {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// The daemon may take this long between the bytes of one message (PROTOCOL.md: 5 s).
constexpr std::chrono::milliseconds kStall = 5000ms;
// Bounds on event fields; anything outside is a malformed message.
constexpr int kMaxPinRetries = 255;
constexpr int kMaxPinLength = 255;

Error malformed(std::string_view what) {
  return Error{Code::protocol_error,
               "touchpassd sent a malformed message (" + std::string(what) + ")."};
}

// One request and its replies. See exchange().
class Exchange {
 public:
  Exchange(int fd, const ipc::Request& request, std::span<const std::uint8_t> secret,
           Console& console, PinSource& pins, const CancelFlag& cancel,
           const ExchangeTiming& timing)
      : fd_(fd),
        request_(request),
        secret_(secret),
        interactive_(ipc::is_interactive(request.op)),
        console_(console),
        pins_(pins),
        cancel_(cancel),
        timing_(timing) {}

  Result<Answer> run();

 private:
  enum class Wait { readable, idle, failed };

  Wait wait_for_message();
  // Handles one event; an error ends the exchange.
  Status on_event(const std::string& event, const ipc::Json& body);
  Status answer_pin(Result<SecretBytes> pin);
  // Sends `cancel` once and remembers `why` as the outcome to report.
  void cancel_with(Error why);
  // The error to report for a final error answer from the daemon.
  Error final_error(Error from_daemon) const;

  int fd_;
  const ipc::Request& request_;
  std::span<const std::uint8_t> secret_;  // the request's secret part
  bool interactive_;
  Console& console_;
  PinSource& pins_;
  const CancelFlag& cancel_;
  const ExchangeTiming& timing_;
  std::optional<Error> cancelled_because_;  // set once we have sent `cancel`
  ipc::PageAssembler pages_;                // pieces of a large answer
  Clock::time_point deadline_ = Clock::time_point::max();
};

Result<Answer> Exchange::run() {
  if (Status s = ipc::write_frame(fd_, request_.to_json(), secret_); !s.ok()) {
    return Error{Code::io_error, "Sending the request to touchpassd failed: " + s.error().message};
  }
  if (!interactive_) deadline_ = Clock::now() + timing_.reply_timeout;
  while (true) {
    if (cancel_.raised() && !cancelled_because_) cancel_with(Error{Code::cancelled, "Cancelled."});
    const Wait wait = wait_for_message();
    if (wait == Wait::failed) {
      return Error{Code::io_error,
                   std::string("Waiting for touchpassd failed: ") + std::strerror(errno) + "."};
    }
    if (wait == Wait::idle) {
      if (Clock::now() < deadline_) continue;
      if (cancelled_because_) return *cancelled_because_;
      return Error{Code::io_error, "touchpassd did not answer in time."};
    }
    auto frame = ipc::read_frame(fd_, {0ms, kStall});
    if (!frame.ok()) {
      if (cancelled_because_) return *cancelled_because_;  // the daemon hung up on our cancel
      if (frame.code() == Code::not_found) {
        return Error{Code::io_error, "touchpassd closed the connection without answering."};
      }
      return Error{Code::io_error, "The connection to touchpassd broke: " + frame.error().message};
    }
    auto reply = ipc::Reply::parse(frame->json);
    if (!reply.ok()) return malformed(reply.error().message);
    switch (reply->kind) {
      case ipc::Reply::Kind::ok:
        if (Status s = pages_.complete(reply->body); !s.ok()) return malformed(s.message());
        return Answer{std::move(reply->body), std::move(frame->secret)};
      case ipc::Reply::Kind::error:
        return final_error(reply->error);
      case ipc::Reply::Kind::event:
        if (reply->event == ipc::kMoreEvent) {  // a piece of a large answer (paging.h)
          if (Status s = pages_.absorb(std::move(reply->body)); !s.ok()) {
            return malformed(s.message());
          }
          break;
        }
        if (Status s = on_event(reply->event, reply->body); !s.ok()) return s.error();
        break;
    }
  }
}

Exchange::Wait Exchange::wait_for_message() {
  // The wake pipe stays readable once raised, so it is watched only until we have cancelled.
  const bool watch_cancel = !cancelled_because_ && cancel_.wake_fd() >= 0;
  pollfd fds[2] = {{fd_, POLLIN, 0}, {cancel_.wake_fd(), POLLIN, 0}};
  const int ready =
      ::poll(fds, watch_cancel ? 2 : 1, static_cast<int>(timing_.poll_interval.count()));
  if (ready < 0) return errno == EINTR ? Wait::idle : Wait::failed;
  return fds[0].revents != 0 ? Wait::readable : Wait::idle;
}

Status Exchange::on_event(const std::string& event, const ipc::Json& body) {
  if (!interactive_) {
    return malformed("the event \"" + printable(event) + "\" answers a request without events");
  }
  if (cancelled_because_) return {};  // the daemon has not seen our cancel yet
  if (event == "need-pin") {
    const auto retries = event_int_field(body, "retries", 0, kMaxPinRetries);
    if (!retries) return malformed("need-pin without a valid \"retries\"");
    return answer_pin(pins_.current_pin(*retries));
  }
  if (event == "need-new-pin") {
    const auto min_length = event_int_field(body, "min_length", 1, kMaxPinLength);
    if (!min_length) return malformed("need-new-pin without a valid \"min_length\"");
    return answer_pin(pins_.new_pin(*min_length));
  }
  auto line = display_event_line(event, body);
  if (!line.ok()) return line.error();
  if (!*line) return malformed("the unknown event \"" + printable(event) + "\"");
  console_.err(**line);
  return {};
}

Status Exchange::answer_pin(Result<SecretBytes> pin) {
  if (!pin.ok()) {
    cancel_with(pin.error());
    return {};
  }
  ipc::Request message;
  message.op = ipc::Op::pin;
  if (Status s = ipc::write_frame(fd_, message.to_json(), pin->bytes()); !s.ok()) {
    return Error{Code::io_error, "Sending the PIN to touchpassd failed: " + s.error().message};
  }
  return {};
}

void Exchange::cancel_with(Error why) {
  if (cancelled_because_) return;
  cancelled_because_ = std::move(why);
  ipc::Request message;
  message.op = ipc::Op::cancel;
  // A failed write needs no handling: the daemon treats a closed connection as a cancel too.
  (void)ipc::write_frame(fd_, message.to_json());
  deadline_ = Clock::now() + timing_.cancel_grace;
}

Error Exchange::final_error(Error from_daemon) const {
  // Our own reason for cancelling says more than the daemon's "cancelled".
  if (cancelled_because_ && from_daemon.code == Code::cancelled) return *cancelled_because_;
  from_daemon.message = printable(from_daemon.message);
  if (from_daemon.message.empty()) {
    from_daemon.message =
        "touchpassd reported an error (" + std::string(code_name(from_daemon.code)) + ").";
  }
  return from_daemon;
}

}  // namespace

Result<UniqueFd> connect_to_daemon(const std::string& path) {
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
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
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
  return fd;
}

Result<Answer> exchange(int fd, const ipc::Request& request, Console& console, PinSource& pins,
                        const CancelFlag& cancel, const ExchangeTiming& timing,
                        std::span<const std::uint8_t> secret) {
  return Exchange(fd, request, secret, console, pins, cancel, timing).run();
}

}  // namespace touchpass::cli
