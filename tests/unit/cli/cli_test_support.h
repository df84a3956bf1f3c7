// Test doubles for the touchpass CLI: a console that records what it was given, and a fake
// daemon that runs a script on the daemon end of a connection (a socketpair, or a listening
// socket in a temporary directory for whole commands).
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <atomic>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/console.h"
#include "ipc/frame.h"
#include "ipc/messages.h"

namespace touchpass::cli::testing {

using namespace std::chrono_literals;

class RecordingConsole final : public Console {
 public:
  void out(std::string_view text) override { out_text += text; }
  void err(std::string_view text) override {
    err_text += text;
    ++err_writes;
  }
  void out_secret(std::string_view secret) override {
    out_text += secret;
    ++secrets_written;
  }
  std::optional<bool> confirm(std::string_view question) override {
    questions.emplace_back(question);
    return confirm_answer;
  }

  std::string out_text;
  std::string err_text;
  std::atomic<int> err_writes{0};  // readable from another thread (a fake daemon)
  int secrets_written = 0;
  std::optional<bool> confirm_answer;  // nullopt: "no terminal"
  std::vector<std::string> questions;
};

// Counts the occurrences of `needle` in `haystack`.
inline int occurrences(std::string_view haystack, std::string_view needle) {
  int count = 0;
  for (auto at = haystack.find(needle); at != std::string_view::npos;
       at = haystack.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

// The daemon end of a connection, as a script sees it.
struct DaemonEnd {
  int fd;

  // The next frame from the client; fails the test if none arrives within 5 s.
  ipc::Frame next() const {
    auto frame = ipc::read_frame(fd, {5000ms, 2000ms});
    EXPECT_TRUE(frame.ok()) << frame.error().message;
    if (!frame.ok()) return {};
    return std::move(*frame);
  }
  // The next frame's JSON, parsed (null if it is not JSON).
  ipc::Json next_json() const {
    return ipc::Json::parse(next().json, nullptr, /*allow_exceptions=*/false);
  }
  void send(std::string_view json, std::string_view secret = {}) const {
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(secret.data());
    EXPECT_TRUE(ipc::write_frame(fd, json, {bytes, secret.size()}).ok());
  }
  void event(std::string_view name, ipc::Json fields = ipc::Json::object()) const {
    send(ipc::event_message(name, std::move(fields)));
  }
  void ok(ipc::Json result = ipc::Json::object(), std::string_view secret = {}) const {
    send(ipc::ok_message(std::move(result)), secret);
  }
  void error(Code code, std::string message, std::optional<int> retries = std::nullopt) const {
    send(ipc::error_message(Error{code, std::move(message), retries}));
  }
};

using Script = std::function<void(const DaemonEnd&)>;

// A fake daemon on one end of a socketpair; the client uses client_fd().
class PairedDaemon {
 public:
  explicit PairedDaemon(Script script) {
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds_), 0);
    thread_ = std::thread([this, script = std::move(script)] {
      script(DaemonEnd{fds_[1]});
      ::shutdown(fds_[1], SHUT_RDWR);
    });
  }
  ~PairedDaemon() {
    join();
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  PairedDaemon(const PairedDaemon&) = delete;
  PairedDaemon& operator=(const PairedDaemon&) = delete;

  int client_fd() const { return fds_[0]; }
  // Waits for the script to finish.
  void join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  int fds_[2] = {-1, -1};
  std::thread thread_;
};

// A fake daemon listening on a Unix socket in a fresh temporary directory; it accepts one
// connection and runs the script on it.
class ListeningDaemon {
 public:
  explicit ListeningDaemon(Script script) {
    char dir_template[] = "/tmp/touchpass-cli-test-XXXXXX";
    dir_ = ::mkdtemp(dir_template);
    path_ = dir_ + "/touchpassd.sock";
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path_.copy(address.sun_path, sizeof address.sun_path - 1);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::listen(listen_fd_, 1), 0);
    thread_ = std::thread([this, script = std::move(script)] {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      script(DaemonEnd{fd});
      ::shutdown(fd, SHUT_RDWR);
      ::close(fd);
    });
  }
  ~ListeningDaemon() {
    stop();
    ::close(listen_fd_);
    std::filesystem::remove_all(dir_);
  }
  ListeningDaemon(const ListeningDaemon&) = delete;
  ListeningDaemon& operator=(const ListeningDaemon&) = delete;

  const std::string& path() const { return path_; }
  // Waits for the script to finish; unblocks a daemon that was never connected to.
  void stop() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::string dir_;
  std::string path_;
  int listen_fd_ = -1;
  std::thread thread_;
};

}  // namespace touchpass::cli::testing
