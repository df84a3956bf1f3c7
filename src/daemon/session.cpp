#include "daemon/session.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "daemon/log.h"

namespace touchpass::daemon {

namespace {

using namespace std::chrono_literals;

std::string describe(const Peer& peer) {
  return "uid " + std::to_string(peer.uid) + " (" + peer.user + ")";
}

}  // namespace

Session::Session(int fd, Service& service)
    : fd_(fd), wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)), service_(service) {}

Session::~Session() {
  end_watch();
  if (wake_fd_ >= 0) ::close(wake_fd_);
  ::close(fd_);
}

void Session::shutdown() {
  closed_ = true;
  cancelled_ = true;
  // Wakes a blocked read in run() or the watcher; the watcher then cancels the token call.
  ::shutdown(fd_, SHUT_RDWR);
}

void Session::run() {
  if (wake_fd_ < 0) {
    log_error(std::string("cannot serve a client: eventfd: ") + std::strerror(errno));
    std::lock_guard lock(write_mu_);
    (void)ipc::write_frame(fd_, ipc::error_message(Error{Code::internal,
                                                         "touchpassd is out of "
                                                         "resources; try again."}));
    ::shutdown(fd_, SHUT_RDWR);
    return;
  }
  try {
    auto peer = peer_of(fd_);
    if (!peer.ok()) {
      log_warning("refused a connection: " + peer.error().message);
      std::lock_guard lock(write_mu_);
      (void)ipc::write_frame(fd_, ipc::error_message(peer.error()));
      return;
    }
    serve(*peer);
  } catch (const std::exception& e) {
    log_error(std::string("session ended by an unexpected error: ") + e.what());
  }
  // The client learns at once that the conversation is over; the descriptor itself is closed
  // when the server reaps the session.
  ::shutdown(fd_, SHUT_RDWR);
}

void Session::serve(const Peer& peer) {
  while (!closed_) {
    auto frame = ipc::read_frame(fd_, {kIdleTimeout, kStallTimeout});
    if (!frame.ok()) {
      if (frame.code() != Code::not_found && !closed_) {
        log_info(describe(peer) + ": connection closed: " + frame.error().message);
      }
      return;
    }
    auto request = ipc::Request::parse(frame->json);
    if (!request.ok()) {
      log_warning(describe(peer) + ": bad request: " + request.error().message);
      answer(request.error());
      if (request.code() == Code::unsupported_version) continue;
      return;  // a client that breaks the protocol is not served further
    }
    cancelled_ = false;
    const std::string what = std::string(ipc::op_name(request->op)) +
                             (request->name.empty() ? "" : " \"" + request->name + "\"");
    Result<Outcome> outcome = service_.handle(peer, *request, *this, frame->secret);
    const std::string uid = std::to_string(peer.uid);
    const std::string_view result = code_name(outcome.code());
    const LogFields fields = {{"TOUCHPASS_UID", uid},
                              {"TOUCHPASS_USER", peer.user},
                              {"TOUCHPASS_OP", ipc::op_name(request->op)},
                              {"TOUCHPASS_RESULT", result}};
    if (outcome.ok()) {
      // Accepted verifications are a mail server's every login: too many to log one by one.
      if (request->op != ipc::Op::verify) {
        log(LogLevel::info, describe(peer) + ": " + what + ": ok", fields);
      }
    } else {
      log(LogLevel::info,
          describe(peer) + ": " + what + ": " + std::string(result) + ": " +
              outcome.error().message,
          fields);
    }
    if (closed_) return;
    answer(outcome);
  }
}

void Session::answer(const Result<Outcome>& outcome) {
  std::lock_guard lock(write_mu_);
  Status s = outcome.ok()
                 ? ipc::write_frame(fd_, ipc::ok_message(outcome->result), outcome->secret.bytes())
                 : ipc::write_frame(fd_, ipc::error_message(outcome.error()));
  if (!s.ok()) closed_ = true;
}

void Session::send_event(std::string_view event, ipc::Json fields) {
  std::lock_guard lock(write_mu_);
  if (closed_) return;
  if (!ipc::write_frame(fd_, ipc::event_message(event, std::move(fields))).ok()) {
    closed_ = true;
    cancelled_ = true;
  }
}

Result<SecretBytes> Session::receive_pin(std::chrono::seconds timeout) {
  if (closed_) return Error{Code::cancelled, "The client went away."};
  auto frame = ipc::read_frame(fd_, {timeout, kStallTimeout});
  if (!frame.ok()) {
    cancelled_ = true;
    if (frame.code() == Code::io_error) {  // nothing arrived: the stream is still in step
      return Error{Code::cancelled, "No PIN was entered in time; the operation was cancelled."};
    }
    closed_ = true;  // gone, or a broken message: nothing more can be read from this stream
    return Error{Code::cancelled, "The client went away."};
  }
  auto message = ipc::Request::parse(frame->json);
  if (message.ok() && message->op == ipc::Op::pin) {
    if (frame->secret.empty()) return Error{Code::pin_invalid, "The PIN is empty."};
    return std::move(frame->secret);
  }
  cancelled_ = true;
  if (message.ok() && message->op == ipc::Op::cancel) {
    return Error{Code::cancelled, "Cancelled."};
  }
  closed_ = true;
  return Error{Code::protocol_error, "Expected a PIN from the client."};
}

void Session::begin_watch(devices::Token* token) {
  end_watch();
  std::uint64_t drain = 0;
  (void)!::read(wake_fd_, &drain, sizeof drain);
  watcher_ = std::thread([this, token] { watch(token); });
}

void Session::end_watch() {
  if (!watcher_.joinable()) return;
  const std::uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
  watcher_.join();
}

void Session::watch(devices::Token* token) {
  // While the token call blocks, the client may only cancel (or go away).
  while (!cancelled_) {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if (fds[0].revents == 0) continue;
    auto frame = ipc::read_frame(fd_, {0ms, kStallTimeout});
    if (!frame.ok()) {
      closed_ = true;  // went away or broke the frame: nobody is left to answer
    } else {
      auto message = ipc::Request::parse(frame->json);
      if (!message.ok() || message->op != ipc::Op::cancel) closed_ = true;
    }
    cancelled_ = true;
  }
  if (token == nullptr) return;
  // A cancel that reaches the token while libfido2 is still in its PIN exchange is ignored by
  // the token, which then waits for a touch: repeat it until the call has returned.
  while (true) {
    token->cancel();
    pollfd wake{wake_fd_, POLLIN, 0};
    if (::poll(&wake, 1, 200) > 0 && wake.revents != 0) return;
  }
}

}  // namespace touchpass::daemon
