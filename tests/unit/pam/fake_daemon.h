// A fake touchpassd for the PAM module's tests: it listens on a Unix socket in a fresh
// temporary directory, accepts connections one after another, records the bytes of each
// request and runs a script on each, so a test can answer the module's verify request with
// anything — the real answers, or garbage — and see what the module sent.
#pragma once

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ipc/frame.h"
#include "ipc/messages.h"

namespace touchpass::pam::testing {

using namespace std::chrono_literals;

// The daemon end of one connection.
struct DaemonEnd {
  int fd;

  // Writes raw bytes (for broken frames).
  void raw(std::string_view bytes) const {
    (void)!::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  }
  void send(std::string_view json) const { (void)ipc::write_frame(fd, json); }
  void ok() const { send(ipc::ok_message()); }
  // Says nothing until the client hangs up (at most 60 s).
  void wait_for_hangup() const {
    pollfd pfd{fd, POLLIN, 0};
    char byte;
    while (::poll(&pfd, 1, 60000) > 0 && ::recv(fd, &byte, 1, 0) > 0) {
    }
  }
  void error(Code code, std::string message) const {
    send(ipc::error_message(Error{code, std::move(message)}));
  }
};

// What the daemon received on one connection.
struct Received {
  std::string bytes;  // everything read: one frame, or what came before a hang-up or 5 s
  std::string json;   // the frame's parts, when a whole frame came
  std::string secret;
};

using Script = std::function<void(const DaemonEnd&)>;

class FakeDaemon {
 public:
  // Serves `script` on every connection. With `listener_uid`, the socket starts listening with
  // that effective uid, and the kernel reports that uid (SO_PEERCRED, recorded by listen()) to
  // every client: to the module the daemon runs as that user. Needs root for that.
  explicit FakeDaemon(Script script, std::optional<uid_t> listener_uid = std::nullopt)
      : script_(std::move(script)) {
    char dir_template[] = "/tmp/touchpass-pam-test-XXXXXX";
    dir_ = ::mkdtemp(dir_template);
    path_ = dir_ + "/touchpassd.sock";
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path_.copy(address.sun_path, sizeof address.sun_path - 1);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    const uid_t own_uid = ::geteuid();
    if (listener_uid) {
      EXPECT_EQ(::seteuid(*listener_uid), 0);
    }
    EXPECT_EQ(::listen(listen_fd_, 8), 0);
    if (listener_uid) {
      EXPECT_EQ(::seteuid(own_uid), 0);
    }
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeDaemon() {
    stop();
    ::close(listen_fd_);
    std::filesystem::remove_all(dir_);
  }
  FakeDaemon(const FakeDaemon&) = delete;
  FakeDaemon& operator=(const FakeDaemon&) = delete;

  const std::string& path() const { return path_; }

  // Stops accepting and waits for the scripts to finish: connections already made are still
  // served (accept takes them from the queue after the shutdown), so none goes unrecorded
  // however late the serving thread starts.
  void stop() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
  }

  // What each connection so far brought (its first frame, or the bytes before a hang-up).
  std::vector<Received> received() {
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  void serve() {
    for (;;) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      Received request = read_request(fd);
      {
        std::lock_guard lock(mutex_);
        received_.push_back(std::move(request));
      }
      script_(DaemonEnd{fd});
      ::shutdown(fd, SHUT_RDWR);
      ::close(fd);
    }
  }

  // Reads the bytes of one frame (and no further), or what comes before the client hangs up or
  // 5 s pass.
  static Received read_request(int fd) {
    Received request;
    std::string& bytes = request.bytes;
    const auto byte = [&bytes](std::size_t i) { return std::size_t{std::uint8_t(bytes[i])}; };
    std::size_t json_size = 0;
    std::size_t want = ipc::kHeaderSize;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (bytes.size() < want) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd pfd{fd, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) break;
      char buffer[4096];
      const ssize_t n = ::recv(fd, buffer, std::min(sizeof buffer, want - bytes.size()), 0);
      if (n <= 0) break;
      bytes.append(buffer, static_cast<std::size_t>(n));
      if (want == ipc::kHeaderSize && bytes.size() == ipc::kHeaderSize) {
        json_size = byte(0) << 24 | byte(1) << 16 | byte(2) << 8 | byte(3);
        if (json_size > ipc::kMaxJsonSize) break;
        want += json_size + (byte(4) << 8 | byte(5));
      }
    }
    if (want > ipc::kHeaderSize && bytes.size() == want) {
      request.json = bytes.substr(ipc::kHeaderSize, json_size);
      request.secret = bytes.substr(ipc::kHeaderSize + json_size);
    }
    return request;
  }

  Script script_;
  std::string dir_;
  std::string path_;
  int listen_fd_ = -1;
  std::mutex mutex_;
  std::vector<Received> received_;
  std::thread thread_;
};

}  // namespace touchpass::pam::testing
