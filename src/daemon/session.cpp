#include "daemon/session.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "daemon/log.h"
#include "ipc/paging.h"

namespace touchpass::daemon {

namespace {

using namespace std::chrono_literals;

std::string describe(const Peer& peer) {
  return "uid " + std::to_string(peer.uid) + " (" + peer.user + ")";
}

}  // namespace

Session::Session(UniqueFd fd, Peer peer, Service& service, IdentityCache& ids)
    : fd_(fd.get()),
      connection_(std::move(fd)),
      peer_(std::move(peer)),
      service_(service),
      ids_(ids),
      reader_(fd_, true) {
  // Waits for a request are blocking reads in slices of this (FrameReader).
  const timeval slice{1, 0};
  (void)::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &slice, sizeof slice);
}

void Session::close_connection() {
  std::lock_guard lock(fd_mu_);
  connection_.reset();
}

void Session::shutdown() {
  closed_ = true;
  // Wakes a blocked read in run().
  std::lock_guard lock(fd_mu_);
  if (connection_.valid()) ::shutdown(fd_, SHUT_RDWR);
}

bool Session::send(std::string_view json, std::span<const std::uint8_t> secret) {
  std::lock_guard lock(write_mu_);
  if (closed_) return false;
  if (!ipc::write_frame(fd_, json, secret, kWriteDeadline).ok()) {
    closed_ = true;  // gone, or not reading its answers: the stream is out of step
    return false;
  }
  return true;
}

void Session::run() {
  try {
    if (std::optional<std::string> name = ids_.user_name(peer_.uid)) {
      peer_.user = std::move(*name);
    } else if (peer_.verifier) {
      // A service may verify without a name; it owns nothing.
      peer_.user = "uid " + std::to_string(peer_.uid);
    } else {
      const Error e{Code::permission_denied,
                    "uid " + std::to_string(peer_.uid) + " has no user name on this system."};
      log_warning("refused a connection: " + e.message);
      (void)send(ipc::error_message(e));
      close_connection();
      return;
    }
    serve();
  } catch (const std::exception& e) {
    log_error(std::string("session ended by an unexpected error: ") + e.what());
  }
  // The client learns at once that the conversation is over, and the session holds no
  // descriptor while it waits to be reaped.
  close_connection();
}

void Session::serve() {
  const Peer& peer = peer_;
  while (!closed_) {
    auto frame = reader_.read({kIdleTimeout, kFrameDeadline});
    if (!frame.ok()) {
      if (frame.code() != Code::not_found && !closed_) {
        log_info(describe(peer) + ": connection closed: " + frame.error().message);
      }
      return;
    }
    auto request = ipc::Request::parse(frame->json);
    if (!request.ok()) {
      log_warning(describe(peer) + ": bad request: " + request.error().message);
      (void)answer(request.error());
      if (request.code() == Code::unsupported_version) continue;
      return;  // a client that breaks the protocol is not served further
    }
    Result<Outcome> outcome = service_.handle(peer, *request, frame->secret);
    const Status sent = closed_ ? Status(Code::io_error, "the client went away") : answer(outcome);
    if (!sent.ok() && outcome.ok()) {
      // Done, but the client never learned it: never logged as a plain "ok".
      log_error(describe(peer) + ": " + std::string(ipc::op_name(request->op)) +
                ": the answer could not be sent: " + std::string(sent.message()));
      return;
    }
    // Verifications are a mail server's every login, and refusals are aggregated into the
    // audit log by the verifier: neither is logged one by one.
    if (request->op != ipc::Op::verify) {
      const std::string what = std::string(ipc::op_name(request->op)) +
                               (request->name.empty() ? "" : " \"" + request->name + "\"");
      const std::string uid = std::to_string(peer.uid);
      const std::string_view result = code_name(outcome.code());
      const LogFields fields = {{"TOUCHPASS_UID", uid},
                                {"TOUCHPASS_USER", peer.user},
                                {"TOUCHPASS_OP", ipc::op_name(request->op)},
                                {"TOUCHPASS_RESULT", result}};
      log(LogLevel::info,
          describe(peer) + ": " + what + ": " +
              (outcome.ok() ? "ok" : std::string(result) + ": " + outcome.error().message),
          fields);
    } else if (!outcome.ok() && outcome.code() != Code::refused) {
      log_warning(describe(peer) + ": verify: " + std::string(code_name(outcome.code())) + ": " +
                  outcome.error().message);
    }
    if (!sent.ok()) return;
  }
}

Status Session::answer(const Result<Outcome>& outcome) {
  const Status gone(Code::io_error, "the client went away or did not read it");
  if (!outcome.ok()) return send(ipc::error_message(outcome.error())) ? Status() : gone;
  auto messages = ipc::paged_ok_messages(outcome->result);
  if (!messages.ok()) {
    (void)send(ipc::error_message(messages.error()));
    return messages.status();
  }
  // A large answer goes in pieces (paging.h); the secret, if any, with the last.
  for (std::size_t i = 0; i < messages->size(); ++i) {
    const bool last = i + 1 == messages->size();
    if (!send((*messages)[i], last ? outcome->secret.bytes() : std::span<const std::uint8_t>())) {
      return gone;
    }
  }
  return {};
}

}  // namespace touchpass::daemon
