#include "daemon/server.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "daemon/log.h"
#include "daemon/session.h"
#include "ipc/frame.h"
#include "ipc/messages.h"

namespace touchpass::daemon {

std::optional<int> systemd_socket() {
  const char* pid = std::getenv("LISTEN_PID");
  const char* fds = std::getenv("LISTEN_FDS");
  std::optional<int> fd;
  if (pid != nullptr && fds != nullptr && std::strtol(pid, nullptr, 10) == ::getpid() &&
      std::strtol(fds, nullptr, 10) >= 1) {
    fd = 3;  // SD_LISTEN_FDS_START
  }
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  return fd;
}

Result<int> bind_socket(const std::filesystem::path& path) {
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
    ::unlink(path.c_str());
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{Code::io_error, std::string("socket: ") + std::strerror(errno)};
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::chmod(path.c_str(), 0666) != 0 || ::listen(fd, 128) != 0) {
    const Error e{Code::io_error,
                  "Cannot listen on " + path.string() + ": " + std::strerror(errno) + "."};
    ::close(fd);
    return e;
  }
  return fd;
}

// One connection's session and thread.
class Server::Connection {
 public:
  Connection(int fd, Service& service) : session_(fd, service) {
    thread_ = std::thread([this] {
      session_.run();
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
  Session session_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

Server::Server(int listen_fd, Service& service, int max_clients)
    : listen_fd_(listen_fd), service_(service), max_clients_(max_clients) {}

Server::~Server() {
  reap(true);
}

void Server::reap(bool all) {
  std::lock_guard lock(mu_);
  if (all) {
    for (auto& c : connections_) c->shutdown();
    connections_.clear();
    return;
  }
  connections_.remove_if([](const std::unique_ptr<Connection>& c) { return c->done(); });
}

void Server::run(int stop_fd) {
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd, POLLIN, 0}};
    // Wake up now and then to join finished sessions even when nobody connects.
    const int ready = ::poll(fds, 2, 1000);
    reap(false);
    if (ready < 0) {
      if (errno == EINTR) continue;
      log_error(std::string("poll failed: ") + std::strerror(errno));
      break;
    }
    if (fds[1].revents != 0) break;
    if ((fds[0].revents & POLLIN) == 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lock(mu_);
    if (static_cast<int>(connections_.size()) >= max_clients_) {
      (void)ipc::write_frame(
          fd, ipc::error_message(Error{Code::io_error, "touchpassd is busy; try again."}));
      ::close(fd);
      log_warning("refused a connection: too many clients");
      continue;
    }
    connections_.push_back(std::make_unique<Connection>(fd, service_));
  }
  log_info("shutting down");
  reap(true);
}

}  // namespace touchpass::daemon
