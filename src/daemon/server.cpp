#include "daemon/server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>

#include "daemon/instance_lock.h"
#include "daemon/log.h"
#include "daemon/session.h"
#include "ipc/frame.h"
#include "ipc/messages.h"

namespace touchpass::daemon {

namespace {

// The niceness of the threads that serve every local user's connections (not verification).
constexpr int kOrdinaryNice = 10;

}  // namespace

UniqueFd systemd_socket() {
  const char* pid = std::getenv("LISTEN_PID");
  const char* fds = std::getenv("LISTEN_FDS");
  UniqueFd fd;
  if (pid != nullptr && fds != nullptr && std::strtol(pid, nullptr, 10) == ::getpid() &&
      std::strtol(fds, nullptr, 10) >= 1) {
    fd.reset(3);  // SD_LISTEN_FDS_START
  }
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  return fd;
}

Result<UniqueFd> bind_socket(const std::filesystem::path& path, mode_t mode,
                             std::optional<gid_t> group) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.native().size() >= sizeof addr.sun_path) {
    return Error{Code::invalid_argument, "The socket path " + path.string() + " is too long."};
  }
  std::memcpy(addr.sun_path, path.c_str(), path.native().size() + 1);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return Error{Code::invalid_argument,
                   path.string() + " exists and is not a socket; refusing to replace it."};
    }
    if (const std::optional<pid_t> pid = socket_server_pid(path)) {
      return Error{Code::invalid_argument, "Another touchpassd (pid " + std::to_string(*pid) +
                                               ") is serving " + path.string() +
                                               "; stop it first."};
    }
    ::unlink(path.c_str());  // stale: nobody serves it
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Error{Code::io_error, std::string("socket: ") + std::strerror(errno)};
  // The mode is the socket's from the moment it exists (bind creates it under the umask), and
  // nothing follows the path afterwards: a link planted there cannot redirect a chmod.
  const mode_t old_umask = ::umask(~mode & 0777);  // bind creates it as 0777 & ~umask
  const int bound = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  const int bind_error = errno;
  ::umask(old_umask);
  // The group is set before anyone can connect (listen), and lchown follows no link.
  if (bound == 0 && group && ::lchown(path.c_str(), static_cast<uid_t>(-1), *group) != 0) {
    // Not fatal: the socket stays the daemon's group's (root can always connect).
    log_warning("cannot give " + path.string() + " the group " + std::to_string(*group) + " (" +
                std::strerror(errno) +
                "); only root and the daemon's own group can connect to it — make the daemon's "
                "user a member of that group");
  }
  if (bound != 0 || ::listen(fd.get(), SOMAXCONN) != 0) {
    return Error{Code::io_error, "Cannot listen on " + path.string() + ": " +
                                     std::strerror(bound != 0 ? bind_error : errno) + "."};
  }
  return fd;
}

// One connection's session and thread; returns its admission slot when destroyed.
class Server::Connection {
 public:
  Connection(UniqueFd fd, Peer peer, Service& service, IdentityCache& ids, Admission& admission)
      : uid_(peer.uid),
        privileged_(peer.verifier),
        admission_(admission),
        session_(std::move(fd), std::move(peer), service, ids) {
    thread_ = std::thread([this] {
      session_.run();
      // The slot is free as soon as the session ends, not when it is reaped.
      admission_.release(uid_, privileged_);
      done_ = true;
    });
  }
  ~Connection() {
    session_.shutdown();
    thread_.join();
  }
  bool done() const { return done_; }
  void shutdown() { session_.shutdown(); }

 private:
  uid_t uid_;
  bool privileged_;
  Admission& admission_;
  Session session_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

Server::Server(std::vector<Listener> listeners, Service& service, IdentityCache& ids, Groups groups,
               AdmissionLimits limits)
    : listeners_(std::move(listeners)),
      service_(service),
      ids_(ids),
      groups_(std::move(groups)),
      admission_(limits) {
  for (std::size_t i = 0; i < listeners_.size(); ++i) {
    sessions_.push_back(std::make_unique<Sessions>());
  }
  // Non-blocking, so that an accept loop can drain its queue without blocking on an empty one.
  for (const Listener& l : listeners_) {
    const int flags = ::fcntl(l.fd, F_GETFL);
    if (flags >= 0) (void)::fcntl(l.fd, F_SETFL, flags | O_NONBLOCK);
  }
}

Server::~Server() {
  for (auto& sessions : sessions_) reap(*sessions, true);
}

void Server::reap(Sessions& sessions, bool all) {
  std::list<std::unique_ptr<Connection>> finished;
  {
    std::lock_guard lock(sessions.mu);
    auto& connections = sessions.connections;
    if (all) {
      for (auto& c : connections) c->shutdown();
      finished.swap(connections);
    } else {
      for (auto it = connections.begin(); it != connections.end();) {
        auto next = std::next(it);
        if ((*it)->done()) finished.splice(finished.end(), connections, it);
        it = next;
      }
    }
  }
  finished.clear();  // joins outside the lock
}

void Server::take(UniqueFd fd, Sessions& sessions) {
  auto peer = credentials_of(fd.get());
  if (!peer.ok()) {
    log_warning("refused a connection: " + peer.error().message);
    return;
  }
  const auto member = [&](const std::string& group) {
    const std::optional<gid_t> gid = ids_.group_id(group);
    return gid.has_value() && has_group(*peer, *gid);
  };
  peer->verifier = peer->uid == 0 || member(groups_.service);
  peer->admin = peer->uid == 0 || member(groups_.admin);
  peer->token_user = peer->uid == 0 || member(groups_.token);
  // Root is no gateway: the gateway's requests are read differently (Service::handle_gateway).
  peer->gateway = peer->uid != 0 && !groups_.gateway.empty() && member(groups_.gateway);
  if (!admission_.admit(peer->uid, peer->verifier)) {
    // Never blocks: a full socket buffer just loses the sentence.
    (void)ipc::write_frame(
        fd.get(),
        ipc::error_message(Error{Code::busy,
                                 "touchpassd has no room for more connections from "
                                 "this user; close some and try again."}),
        {}, std::chrono::milliseconds(0));
    fd.reset();
    const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::steady_clock::now().time_since_epoch())
                                 .count();
    std::int64_t last = last_refusal_log_.load();
    if (now - last >= 10 && last_refusal_log_.compare_exchange_strong(last, now)) {
      log_warning("refused a connection from uid " + std::to_string(peer->uid) +
                  ": too many connections");
    }
    return;
  }
  const uid_t uid = peer->uid;
  const bool privileged = peer->verifier;
  std::unique_ptr<Connection> connection;
  try {
    connection =
        std::make_unique<Connection>(std::move(fd), std::move(*peer), service_, ids_, admission_);
  } catch (const std::exception& e) {
    // No thread for the session (the process's or the system's limit on threads), or no
    // memory for it: this connection is closed and its slot freed; the daemon and its other
    // sessions go on.
    admission_.release(uid, privileged);
    log_warning(std::string("refused a connection: no thread or no memory for it (") + e.what() +
                ")");
    return;
  }
  std::lock_guard lock(sessions.mu);
  sessions.connections.push_back(std::move(connection));
}

void Server::run(int stop_fd) {
  std::vector<std::thread> loops;
  for (std::size_t i = 0; i < listeners_.size(); ++i) {
    loops.emplace_back([this, i, stop_fd] { accept_loop(listeners_[i], *sessions_[i], stop_fd); });
  }
  for (auto& t : loops) t.join();
  log_info("shutting down");
  for (auto& sessions : sessions_) reap(*sessions, true);
}

void Server::accept_loop(Listener listener, Sessions& sessions, int stop_fd) {
  const int listen_fd = listener.fd;
  if (!listener.verification) {
    // This thread and the sessions it starts (threads inherit it) yield to verification.
    (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kOrdinaryNice);
  }
  while (true) {
    pollfd fds[2] = {{listen_fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
    // Wake up now and then to join finished sessions even when nobody connects.
    const int ready = ::poll(fds, 2, 1000);
    reap(sessions, false);
    if (ready < 0) {
      if (errno == EINTR) continue;
      log_error(std::string("poll failed: ") + std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    // Drain the queue: a flood of connections that are then refused must not keep others
    // waiting in a full listen queue.
    for (int i = 0; i < 256; ++i) {
      UniqueFd fd(::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
      if (fd.valid()) {
        try {
          take(std::move(fd), sessions);
        } catch (const std::exception& e) {
          // Out of memory while looking at the peer or keeping its session (the session, if
          // any, has ended and freed its slot): this connection is lost, not the daemon.
          log_warning(std::string("refused a connection: ") + e.what());
        }
        continue;
      }
      if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS) {
        // Out of descriptors despite the limits (another part of the process holds many):
        // let finished sessions go and do not spin.
        log_warning(std::string("cannot accept a connection: ") + std::strerror(errno));
        pollfd stop{stop_fd, POLLIN, 0};
        (void)::poll(&stop, 1, 50);
      }
      break;
    }
  }
}

}  // namespace touchpass::daemon
