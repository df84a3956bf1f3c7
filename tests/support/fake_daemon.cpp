#include "support/fake_daemon.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/fd.h"
#include "support/fd_pairs.h"

namespace touchpass::testing {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::chrono::milliseconds kWriteTimeout = 5s;

std::string system_error(const char* call) {
  return std::string(call) + ": " + std::strerror(errno);
}

// Milliseconds until `deadline` for poll(), never negative.
int milliseconds_until(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 1 << 30));
}

}  // namespace

// Everything the daemon's thread and the test's thread share.
struct FakeDaemonState {
  Script script;
  FakeDaemonOptions options;
  std::string dir;  // listening daemons: the temporary directory, and the socket in it
  std::string path;
  UniqueFd listener;    // listening daemons (non-blocking)
  UniqueFd daemon_end;  // paired daemons: the end the thread serves, once
  UniqueFd client_end;  // paired daemons: the client's end
  Pipe wake;            // readable while the test lets go (stop(), release())
  std::thread thread;

  mutable std::mutex mu;  // guards everything below
  std::condition_variable changed;
  std::vector<Conversation> conversations;
  std::vector<std::string> problems;
  std::uint64_t releases_asked = 0;
  std::uint64_t releases_done = 0;
  bool stopping = false;
  bool finished = false;  // the thread has returned

  ~FakeDaemonState() {
    stop();
    if (!dir.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  }

  // Raises the wake pipe (under `mu`).
  void raise_wake() { (void)!::write(wake.write.get(), "x", 1); }

  void stop() {
    {
      std::lock_guard lock(mu);
      if (!stopping) {
        stopping = true;
        raise_wake();
      }
    }
    if (thread.joinable()) thread.join();
    listener.reset();  // a client that comes now is refused: nobody listens
  }

  void release() {
    std::unique_lock lock(mu);
    if (finished) return;
    const std::uint64_t ticket = ++releases_asked;
    raise_wake();
    changed.wait(lock, [&] { return finished || releases_done >= ticket; });
  }

  void problem(std::string sentence) {
    {
      std::lock_guard lock(mu);
      problems.push_back(sentence);
    }
    if (options.on_problem) options.on_problem(sentence);
  }

  void record(std::optional<std::size_t> conversation, const Result<ipc::Frame>& frame) {
    if (!conversation) return;
    std::lock_guard lock(mu);
    Conversation& c = conversations[*conversation];
    if (frame.ok()) {
      c.requests.push_back({frame->json, std::string(frame->secret.view())});
    } else {
      c.end = frame.code();
    }
  }

  // Runs the script on `fd`, then hangs up.
  void serve(UniqueFd fd) {
    std::optional<std::size_t> conversation;
    if (options.record) {
      std::lock_guard lock(mu);
      conversation = conversations.size();
      conversations.emplace_back();
    }
    DaemonConnection connection(*this, fd.get(), conversation);
    script(connection);
    ::shutdown(fd.get(), SHUT_RDWR);
  }

  // The thread: serves the paired end, or each connection as it comes; lets go when told.
  void run() {
    if (daemon_end.valid()) serve(std::move(daemon_end));
    while (true) {
      pollfd fds[2] = {{listener.get(), POLLIN, 0}, {wake.read.get(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        problem(system_error("poll"));
        break;
      }
      if ((fds[0].revents & POLLIN) != 0) {
        UniqueFd fd(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (fd.valid()) {
          serve(std::move(fd));
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          problem(system_error("accept4"));
          break;
        }
        continue;
      }
      if ((fds[1].revents & POLLIN) == 0) continue;
      // Let go: the connections already queued are served (their waits end at once), then the
      // request is acknowledged.
      while (listener.valid()) {
        UniqueFd fd(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!fd.valid()) break;
        serve(std::move(fd));
      }
      std::lock_guard lock(mu);
      char sink[64];
      while (::read(wake.read.get(), sink, sizeof sink) > 0) {
      }
      releases_done = releases_asked;
      changed.notify_all();
      if (stopping) break;
    }
    std::lock_guard lock(mu);
    finished = true;
    changed.notify_all();
  }
};

DaemonConnection::DaemonConnection(FakeDaemonState& daemon, int fd,
                                   std::optional<std::size_t> conversation)
    : daemon_(daemon), fd_(fd), reader_(fd), conversation_(conversation) {}

Result<ipc::Frame> DaemonConnection::wait_and_read(const ipc::ReadLimits& limits) {
  if (!reader_.has_buffered()) {
    const bool bounded = limits.idle.count() >= 0;
    const Clock::time_point deadline = Clock::now() + std::max(limits.idle, 0ms);
    while (true) {
      pollfd fds[2] = {{fd_, POLLIN, 0}, {daemon_.wake.read.get(), POLLIN, 0}};
      const int ready = ::poll(fds, 2, bounded ? milliseconds_until(deadline) : -1);
      if (ready < 0) {
        if (errno == EINTR) continue;
        return Error{Code::io_error, system_error("poll")};
      }
      if (fds[0].revents != 0) break;  // bytes, or the end of the stream: the reader takes them
      if (fds[1].revents != 0) return Error{Code::cancelled, "The test let go of the connection."};
      if (ready == 0) return Error{Code::io_error, "Timed out waiting for a message."};
    }
  }
  return reader_.read(limits);
}

Result<ipc::Frame> DaemonConnection::read(ipc::ReadLimits limits) {
  Result<ipc::Frame> frame = wait_and_read(limits);
  daemon_.record(conversation_, frame);
  return frame;
}

ipc::Frame DaemonConnection::next() {
  Result<ipc::Frame> frame = read();
  if (!frame.ok()) {
    daemon_.problem("a request was expected, but: " + frame.error().message);
    return {};
  }
  return std::move(*frame);
}

ipc::Json DaemonConnection::next_json() {
  const ipc::Frame frame = next();
  if (frame.json.empty()) return nullptr;
  return ipc::Json::parse(frame.json, nullptr, /*allow_exceptions=*/false);
}

void DaemonConnection::send(std::string_view json, std::string_view secret) {
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(secret.data());
  if (Status s = ipc::write_frame(fd_, json, {bytes, secret.size()}, kWriteTimeout); !s.ok()) {
    daemon_.problem("the client did not take an answer: " + std::string(s.message()));
  }
}

void DaemonConnection::ok(ipc::Json result, std::string_view secret) {
  send(ipc::ok_message(std::move(result)), secret);
}

void DaemonConnection::error(Code code, std::string message, std::optional<int> retries) {
  send(ipc::error_message(Error{code, std::move(message), retries}));
}

void DaemonConnection::event(std::string_view name, ipc::Json fields) {
  send(ipc::event_message(name, std::move(fields)));
}

void DaemonConnection::raw(std::span<const std::uint8_t> bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n =
        ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return;  // the client has gone
    pollfd fds[2] = {{fd_, POLLOUT, 0}, {daemon_.wake.read.get(), POLLIN, 0}};
    if (::poll(fds, 2, static_cast<int>(kWriteTimeout.count())) <= 0 || fds[1].revents != 0) {
      return;  // the client does not read, or the test let go
    }
  }
}

void DaemonConnection::raw(std::string_view bytes) {
  raw(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

void DaemonConnection::pause(std::chrono::milliseconds duration) {
  const Clock::time_point deadline = Clock::now() + duration;
  pollfd wake{daemon_.wake.read.get(), POLLIN, 0};
  while (Clock::now() < deadline) {
    if (::poll(&wake, 1, milliseconds_until(deadline)) > 0) return;
  }
}

void DaemonConnection::end_writes() {
  ::shutdown(fd_, SHUT_WR);
}

void DaemonConnection::wait_for_hangup(std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  char sink[4096];
  while (true) {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {daemon_.wake.read.get(), POLLIN, 0}};
    const int ready = ::poll(fds, 2, milliseconds_until(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0 || fds[1].revents != 0) return;
    const ssize_t n = ::recv(fd_, sink, sizeof sink, MSG_DONTWAIT);
    if (n > 0) continue;
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return;
  }
}

Script after_request(Script answer) {
  return [answer = std::move(answer)](DaemonConnection& connection) {
    if (connection.read().ok()) answer(connection);
  };
}

Result<FakeDaemon> FakeDaemon::listen(Script script, FakeDaemonOptions options) {
  auto state = std::make_unique<FakeDaemonState>();
  state->script = std::move(script);
  state->options = std::move(options);
  auto wake = make_pipe(O_CLOEXEC | O_NONBLOCK);
  if (!wake.ok()) return wake.error();
  state->wake = std::move(*wake);
  char dir_template[] = "/tmp/touchpass-fake-daemon-XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) return Error{Code::io_error, system_error("mkdtemp")};
  state->dir = dir_template;
  state->path = state->dir + "/touchpassd.sock";
  state->listener.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!state->listener.valid()) return Error{Code::io_error, system_error("socket")};
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  state->path.copy(address.sun_path, sizeof address.sun_path - 1);
  if (::bind(state->listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    return Error{Code::io_error, system_error("bind")};
  }
  // The kernel records the listener's credentials (SO_PEERCRED) when it starts listening.
  const uid_t own_uid = ::geteuid();
  const std::optional<uid_t> as = state->options.listener_uid;
  if (as && ::seteuid(*as) != 0) return Error{Code::io_error, system_error("seteuid")};
  const bool listening = ::listen(state->listener.get(), 16) == 0;
  const std::string listen_error = listening ? "" : system_error("listen");
  if (as && ::seteuid(own_uid) != 0) std::abort();  // the test would go on as another user
  if (!listening) return Error{Code::io_error, listen_error};
  FakeDaemonState* raw_state = state.get();
  state->thread = std::thread([raw_state] { raw_state->run(); });
  return FakeDaemon(std::move(state));
}

Result<FakeDaemon> FakeDaemon::paired(Script script, FakeDaemonOptions options) {
  auto state = std::make_unique<FakeDaemonState>();
  state->script = std::move(script);
  state->options = std::move(options);
  auto wake = make_pipe(O_CLOEXEC | O_NONBLOCK);
  if (!wake.ok()) return wake.error();
  state->wake = std::move(*wake);
  auto pair = make_socket_pair();
  if (!pair.ok()) return pair.error();
  state->client_end = std::move(pair->first);
  state->daemon_end = std::move(pair->second);
  FakeDaemonState* raw_state = state.get();
  state->thread = std::thread([raw_state] { raw_state->run(); });
  return FakeDaemon(std::move(state));
}

FakeDaemon::FakeDaemon(std::unique_ptr<FakeDaemonState> state) : state_(std::move(state)) {}
FakeDaemon::FakeDaemon(FakeDaemon&&) noexcept = default;
FakeDaemon& FakeDaemon::operator=(FakeDaemon&&) noexcept = default;
FakeDaemon::~FakeDaemon() = default;

const std::string& FakeDaemon::path() const {
  return state_->path;
}

int FakeDaemon::client_fd() const {
  return state_->client_end.get();
}

void FakeDaemon::stop() {
  state_->stop();
}

void FakeDaemon::release() {
  state_->release();
}

std::vector<Conversation> FakeDaemon::conversations() const {
  std::lock_guard lock(state_->mu);
  return state_->conversations;
}

std::vector<std::string> FakeDaemon::problems() const {
  std::lock_guard lock(state_->mu);
  return state_->problems;
}

}  // namespace touchpass::testing
