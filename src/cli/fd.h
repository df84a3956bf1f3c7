// File descriptors: UniqueFd owns one and closes it when destroyed; write_all writes fully.
#pragma once

#include <unistd.h>

#include <string_view>
#include <utility>

namespace touchpass::cli {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes the descriptor held (if any) and takes `fd`.
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Writes all of `text` to `fd`, retrying short writes and EINTR. Returns false when the write
// fails (the stream is closed or broken); there is then nothing sensible left to do with it.
bool write_all(int fd, std::string_view text);

}  // namespace touchpass::cli
