// A fake touchpassd for the PAM module's tests: it listens on a Unix socket in a fresh
// temporary directory, accepts connections one after another and runs a script on each, so a
// test can answer the module's verify request with anything — the real answers, or garbage.
#pragma once

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
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
  std::string json;
  std::string secret;
};

using Script = std::function<void(const DaemonEnd&)>;

class FakeDaemon {
 public:
  explicit FakeDaemon(Script script) : script_(std::move(script)) {
    char dir_template[] = "/tmp/touchpass-pam-test-XXXXXX";
    dir_ = ::mkdtemp(dir_template);
    path_ = dir_ + "/touchpassd.sock";
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path_.copy(address.sun_path, sizeof address.sun_path - 1);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::listen(listen_fd_, 8), 0);
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

  // Stops accepting and waits for the running script to finish.
  void stop() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
  }

  // Every request received so far (the first frame of each connection).
  std::vector<Received> received() {
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  void serve() {
    while (!stopping_) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      auto frame = ipc::read_frame(fd, {5000ms, 2000ms});
      if (frame.ok()) {
        std::lock_guard lock(mutex_);
        received_.push_back({frame->json, std::string(frame->secret.view())});
      }
      script_(DaemonEnd{fd});
      ::shutdown(fd, SHUT_RDWR);
      ::close(fd);
    }
  }

  Script script_;
  std::string dir_;
  std::string path_;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::vector<Received> received_;
  std::thread thread_;
};

}  // namespace touchpass::pam::testing
