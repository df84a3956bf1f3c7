#include "devices/virtual/server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <list>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/fd.h"
#include "devices/virtual/ctaphid.h"

namespace touchpass::vtoken {
namespace {

using Clock = std::chrono::steady_clock;

// A host that leaves its reports unread for this long is disconnected, so that it cannot hold
// the device (and a thread) forever.
constexpr int kSendTimeoutSeconds = 2;
constexpr int kListenBacklog = 16;
// Back-off after a failing accept (e.g. out of file descriptors), instead of spinning.
constexpr int kAcceptRetryMs = 100;

std::string errno_text(int error) {
  return std::strerror(error);
}

Error io_error(const std::string& what, const std::filesystem::path& path, int error) {
  return Error{Code::io_error, what + " " + path.string() + ": " + errno_text(error)};
}

// One connected SOCK_SEQPACKET socket as a ctaphid::Link. The socket is owned by the server;
// it is shut down (never closed) from other threads, which makes receive() report closed and
// send() fail.
class SocketLink final : public ctaphid::Link {
 public:
  explicit SocketLink(int fd) : fd_(fd) {}

  Received receive(std::optional<Clock::time_point> deadline) override {
    while (!closed_) {
      int timeout_ms = -1;
      if (deadline) {
        const auto left =
            std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now()).count();
        timeout_ms = static_cast<int>(std::clamp<long long>(left, 0, 60'000));
      }
      pollfd pfd{fd_, POLLIN | POLLRDHUP, 0};
      const int ready = ::poll(&pfd, 1, timeout_ms);
      if (ready < 0) {
        if (errno == EINTR) continue;
        closed_ = true;
        break;
      }
      if (ready == 0) {
        if (deadline && Clock::now() >= *deadline) return {Received::Kind::timeout, {}};
        continue;  // the clamp cut a long wait short
      }
      if ((pfd.revents & (POLLIN | POLLHUP | POLLERR | POLLRDHUP)) == 0) continue;

      // MSG_TRUNC makes recv return the real size of a longer message (its tail is discarded).
      std::array<std::uint8_t, ctaphid::kReportSize + 1> buffer{};
      const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT | MSG_TRUNC);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
        closed_ = true;
        break;
      }
      if (n == 0 && (pfd.revents & (POLLHUP | POLLRDHUP | POLLERR)) != 0) {
        closed_ = true;  // end of stream (a zero-length message on a live socket is returned)
        break;
      }
      const std::size_t kept = std::min(static_cast<std::size_t>(n), buffer.size());
      return {Received::Kind::message,
              Bytes(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(kept))};
    }
    return {Received::Kind::closed, {}};
  }

  bool send(std::span<const std::uint8_t> report) override {
    if (closed_) return false;
    for (;;) {
      const ssize_t n = ::send(fd_, report.data(), report.size(), MSG_NOSIGNAL);
      if (n == static_cast<ssize_t>(report.size())) return true;
      if (n < 0 && errno == EINTR) continue;
      closed_ = true;  // peer gone, shut down, or not reading (SO_SNDTIMEO)
      return false;
    }
  }

 private:
  int fd_;
  bool closed_ = false;
};

}  // namespace

// Threads: the caller's (start, set_presence, drop_connections, stop), one accept thread, and one
// thread per connection running a ctaphid::Session. The connection list is guarded by `mutex`;
// the Device and the Authenticator are thread-safe themselves; presence has its own mutex.
struct VirtualTokenServer::Impl {
  // One accepted connection and the thread serving it.
  struct Connection {
    // Guarded by Impl::mutex for closing and for shutdown() from other threads; the serving
    // thread uses it without the lock, which is safe because only that thread closes it.
    UniqueFd fd;
    bool finished = false;  // guarded by Impl::mutex; set when the thread is about to return
    std::thread thread;
  };

  std::filesystem::path path;
  dev_t socket_dev = 0;  // identity of the socket file we bound, so that stop() removes only it
  ino_t socket_ino = 0;
  std::shared_ptr<Authenticator> authenticator;
  ctaphid::Device device;

  std::mutex presence_mutex;
  PresencePolicy presence;  // guarded by presence_mutex

  UniqueFd listen_fd;
  UniqueFd stop_fd;  // eventfd: readable once stop() begins; wakes the accept thread
  std::thread accept_thread;

  std::mutex mutex;
  std::condition_variable finished_changed;  // a connection's thread is about to return
  bool stopping = false;                     // guarded by mutex
  std::list<Connection> connections;         // guarded by mutex (see Connection)

  std::mutex stop_mutex;  // serialises stop() callers
  bool stopped = false;   // guarded by stop_mutex

  PresencePolicy current_presence() {
    std::lock_guard lock(presence_mutex);
    return presence;
  }

  void accept_loop();
  void serve(Connection& connection);
  void reap_finished();
  void stop();
};

void VirtualTokenServer::Impl::accept_loop() {
  for (;;) {
    std::array<pollfd, 2> fds = {pollfd{listen_fd.get(), POLLIN, 0},
                                 pollfd{stop_fd.get(), POLLIN, 0}};
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return;  // cannot happen with valid descriptors; stop() still cleans up
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;

    UniqueFd fd(::accept4(listen_fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!fd.valid()) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED) {
        continue;
      }
      pollfd wait_stop{stop_fd.get(), POLLIN, 0};
      ::poll(&wait_stop, 1, kAcceptRetryMs);
      continue;
    }
    const timeval send_timeout{kSendTimeoutSeconds, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);

    reap_finished();
    std::lock_guard lock(mutex);
    if (stopping) return;
    Connection& connection = connections.emplace_back();
    connection.fd = std::move(fd);
    try {
      connection.thread = std::thread([this, &connection] { serve(connection); });
    } catch (const std::system_error&) {
      connections.pop_back();  // no thread: refuse this host, keep serving the others
    }
  }
}

void VirtualTokenServer::Impl::serve(Connection& connection) {
  // `connection` stays in the list (and alive) until this thread is joined.
  try {
    SocketLink link(connection.fd.get());
    ctaphid::Options options;
    options.cancel_answer_delay =
        std::chrono::milliseconds(authenticator->config().cancel_answer_delay_ms);
    ctaphid::Session session(
        device, link,
        [this](std::span<const std::uint8_t> request, PresenceWaiter& waiter) {
          return authenticator->handle_cbor(request, waiter);
        },
        [this] { return current_presence(); }, options);
    session.run();
  } catch (...) {  // e.g. bad_alloc: lose this connection, never the server
  }
  {
    std::lock_guard lock(mutex);
    connection.fd.reset();
    connection.finished = true;
  }
  finished_changed.notify_all();
}

void VirtualTokenServer::Impl::reap_finished() {
  std::list<Connection> finished;
  {
    std::lock_guard lock(mutex);
    for (auto it = connections.begin(); it != connections.end();) {
      auto next = std::next(it);
      if (it->finished) finished.splice(finished.end(), connections, it);
      it = next;
    }
  }
  for (Connection& connection : finished) connection.thread.join();
}

void VirtualTokenServer::Impl::stop() {
  std::lock_guard stop_lock(stop_mutex);
  if (stopped) return;
  stopped = true;

  {
    std::lock_guard lock(mutex);
    stopping = true;
    for (Connection& connection : connections) {
      if (connection.fd.valid()) ::shutdown(connection.fd.get(), SHUT_RDWR);
    }
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t written = ::write(stop_fd.get(), &one, sizeof one);
  if (accept_thread.joinable()) accept_thread.join();
  listen_fd.reset();

  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == socket_dev &&
      st.st_ino == socket_ino) {
    ::unlink(path.c_str());
  }

  std::list<Connection> remaining;
  {
    std::lock_guard lock(mutex);
    remaining.splice(remaining.end(), connections);
  }
  for (Connection& connection : remaining) connection.thread.join();
}

Result<std::unique_ptr<VirtualTokenServer>> VirtualTokenServer::start(
    std::filesystem::path socket_path, std::shared_ptr<Authenticator> authenticator,
    PresencePolicy presence) {
  if (!authenticator) return Error{Code::invalid_argument, "no authenticator to serve"};
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string& native = socket_path.native();
  if (native.empty() || native.size() >= sizeof address.sun_path) {
    return Error{Code::invalid_argument, "socket path is empty or too long (at most " +
                                             std::to_string(sizeof address.sun_path - 1) +
                                             " bytes): " + native};
  }
  std::memcpy(address.sun_path, native.c_str(), native.size() + 1);
  const auto address_size = static_cast<socklen_t>(sizeof address);

  const std::filesystem::path directory =
      socket_path.has_parent_path() ? socket_path.parent_path() : std::filesystem::path(".");
  std::error_code dir_error;
  if (!std::filesystem::is_directory(directory, dir_error)) {
    return Error{Code::not_found, "the directory " + directory.string() + " of the socket " +
                                      native + " does not exist"};
  }

  UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return io_error("cannot create a socket for", socket_path, errno);

  // Replace a stale socket file, but nothing else, and not a socket someone still serves.
  struct stat st {};
  if (::lstat(native.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return Error{Code::invalid_argument,
                   native + " exists and is not a socket; not replacing it"};
    }
    UniqueFd probe(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (probe.valid() &&
        ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&address), address_size) == 0) {
      return Error{Code::invalid_argument, "a virtual token is already serving " + native};
    }
    if (::unlink(native.c_str()) != 0 && errno != ENOENT) {
      return io_error("cannot remove the stale socket", socket_path, errno);
    }
  }

  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), address_size) != 0) {
    return io_error("cannot bind", socket_path, errno);
  }
  auto impl = std::make_unique<Impl>();
  impl->path = socket_path;
  if (::lstat(native.c_str(), &st) == 0) {
    impl->socket_dev = st.st_dev;
    impl->socket_ino = st.st_ino;
  }
  // Before listen(), so no host can connect while the mode is still the umask's.
  if (::chmod(native.c_str(), 0660) != 0 || ::listen(fd.get(), kListenBacklog) != 0) {
    const int error = errno;
    ::unlink(native.c_str());
    return io_error("cannot listen on", impl->path, error);
  }
  impl->stop_fd = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!impl->stop_fd.valid()) {
    const int error = errno;
    ::unlink(native.c_str());
    return io_error("cannot create an eventfd for", impl->path, error);
  }
  impl->listen_fd = std::move(fd);
  impl->authenticator = std::move(authenticator);
  impl->presence = presence;

  Impl* raw = impl.get();
  try {
    impl->accept_thread = std::thread([raw] { raw->accept_loop(); });
  } catch (const std::system_error& e) {
    ::unlink(raw->path.c_str());
    return Error{Code::internal, std::string("cannot start the server thread: ") + e.what()};
  }
  return std::unique_ptr<VirtualTokenServer>(new VirtualTokenServer(std::move(impl)));
}

VirtualTokenServer::VirtualTokenServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

VirtualTokenServer::~VirtualTokenServer() {
  stop();
}

void VirtualTokenServer::set_presence(PresencePolicy presence) {
  std::lock_guard lock(impl_->presence_mutex);
  impl_->presence = presence;
}

void VirtualTokenServer::drop_connections() {
  // The serving threads see end of stream, abandon what they were doing (a wait for presence
  // included), release their descriptors and finish; they are joined on the next accept or by
  // stop(). Returns once every dropped connection has finished, so that the device is idle.
  std::unique_lock lock(impl_->mutex);
  std::vector<const Impl::Connection*> dropped;
  for (Impl::Connection& connection : impl_->connections) {
    if (!connection.fd.valid()) continue;
    ::shutdown(connection.fd.get(), SHUT_RDWR);
    dropped.push_back(&connection);
  }
  impl_->finished_changed.wait(lock, [&] {
    // A connection no longer in the list has been reaped: it finished.
    for (const Impl::Connection& c : impl_->connections) {
      if (!c.finished && std::find(dropped.begin(), dropped.end(), &c) != dropped.end()) {
        return false;
      }
    }
    return true;
  });
}

void VirtualTokenServer::stop() {
  impl_->stop();
}

const std::filesystem::path& VirtualTokenServer::socket_path() const {
  return impl_->path;
}

}  // namespace touchpass::vtoken
