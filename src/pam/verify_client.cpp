#include "pam/verify_client.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

#include "core/fd.h"
#include "core/status.h"
#include "ipc/frame.h"
#include "ipc/messages.h"

namespace touchpass::pam {

namespace {

using Clock = std::chrono::steady_clock;

Verdict unavailable(std::string detail) {
  return Verdict{Verdict::Kind::unavailable, std::move(detail)};
}

std::string errno_text() {
  return std::strerror(errno);
}

// Why an answer could not be read (ipc::read_frame_by's errors), for the service's log.
std::string unreadable(const Error& e) {
  switch (e.code) {
    case Code::not_found:
      return "touchpassd closed the connection without an answer";
    case Code::io_error:  // nothing by the deadline, or the read failed
      return "no answer from touchpassd: " + e.message;
    default:
      return "touchpassd sent a broken answer: " + e.message;
  }
}

// The uid of `user`, nullopt when there is no such user. Error io_error when the user database
// cannot be read.
Result<std::optional<uid_t>> uid_of(const std::string& user) {
  constexpr std::size_t kMaxBuffer = 1 << 20;
  const long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buffer(hint > 0 ? static_cast<std::size_t>(hint) : 1024);
  for (;;) {
    passwd entry{};
    passwd* found = nullptr;
    const int e = ::getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found);
    if (e == ERANGE && buffer.size() < kMaxBuffer) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    if (e != 0) return Error{Code::io_error, std::strerror(e)};
    if (found == nullptr) return std::optional<uid_t>();
    return std::optional<uid_t>(found->pw_uid);
  }
}

// "" when the process that listens on the socket `fd` is connected to (as the kernel recorded
// it) runs as root or as `daemon_user`; otherwise why it may not have the password.
std::string check_listener(int fd, const std::string& socket, const std::string& daemon_user) {
  ucred listener{};
  socklen_t size = sizeof listener;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &listener, &size) != 0 || size != sizeof listener) {
    return "cannot tell who listens on " + socket + ": " + errno_text();
  }
  if (listener.uid == 0) return "";
  const std::string refusal = "the process listening on " + socket + " runs as uid " +
                              std::to_string(listener.uid) + ", not as root or " + daemon_user;
  const auto allowed = uid_of(daemon_user);
  if (!allowed.ok()) {
    return refusal + " (the user cannot be looked up: " + allowed.error().message +
           "); the password was not sent";
  }
  if (!allowed->has_value()) {
    return refusal + " (no such user); the password was not sent";
  }
  if (listener.uid == **allowed) return "";
  return refusal + " (uid " + std::to_string(**allowed) + "); the password was not sent";
}

}  // namespace

Verdict verify_with_daemon(const std::string& socket, const std::string& daemon_user,
                           const VerifyQuery& query, const SecretBytes& password,
                           std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket.empty() || socket.size() >= sizeof address.sun_path) {
    return unavailable("the socket path is not usable");
  }
  std::memcpy(address.sun_path, socket.data(), socket.size());

  // Non-blocking: a Unix socket whose listen queue is full fails with EAGAIN instead of
  // blocking, so a stuck daemon cannot hold the service beyond the deadline.
  const UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return unavailable("cannot create a socket: " + errno_text());
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    return unavailable("cannot connect to touchpassd at " + socket + ": " + errno_text());
  }
  // Anyone who could bind the path first (or replace the socket) would otherwise be handed the
  // password: it goes only to the daemon's user, or root (systemd, when socket-activated).
  if (auto refusal = check_listener(fd.get(), socket, daemon_user); !refusal.empty()) {
    return unavailable(refusal);
  }

  ipc::Request request;
  request.op = ipc::Op::verify;
  request.user = query.user;
  request.service = query.service;
  request.remote = query.remote;
  // The request is a few hundred bytes: a fresh connection's send buffer takes it whole.
  if (auto sent = ipc::write_frame(fd.get(), request.to_json(), password.bytes()); !sent.ok()) {
    return unavailable("sending the request to touchpassd failed: " + sent.error().message);
  }

  // The limits are the protocol's; a secret part, which a verify answer should not have, is
  // read into wiped memory.
  auto answer = ipc::read_frame_by(fd.get(), deadline);
  if (!answer.ok()) return unavailable(unreadable(answer.error()));
  auto reply = ipc::Reply::parse(answer->json);
  if (!reply.ok()) {
    return unavailable("touchpassd sent a malformed answer: " + reply.error().message);
  }
  switch (reply->kind) {
    case ipc::Reply::Kind::ok:
      return Verdict{Verdict::Kind::accepted, ""};
    case ipc::Reply::Kind::error:
      if (reply->error.code == Code::refused) return Verdict{Verdict::Kind::refused, ""};
      return unavailable("touchpassd answered " + std::string(code_name(reply->error.code)) + ": " +
                         reply->error.message);
    case ipc::Reply::Kind::event:
      return unavailable("touchpassd sent an event instead of an answer");
  }
  return unavailable("touchpassd sent an unexpected answer");
}

}  // namespace touchpass::pam
