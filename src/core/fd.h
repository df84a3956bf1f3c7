// The one owner of a POSIX file descriptor. The only system call it makes is close(2); it
// lives in the core so that every module (CLI, PAM client, token backends, virtual token)
// shares it.
#pragma once

#include <utility>

namespace touchpass {

// Owns one file descriptor (or none: -1) and closes it when destroyed or reset. Move-only: a
// move hands the descriptor over and leaves the source empty.
class UniqueFd {
 public:
  UniqueFd() = default;
  // Takes ownership of `fd`; a negative `fd` (a failed open, socket, ...) gives an empty owner.
  explicit UniqueFd(int fd) noexcept : fd_(fd < 0 ? -1 : fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  // Closes the descriptor held (if any) and takes `other`'s.
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  // The descriptor held, or -1; ownership stays here.
  int get() const noexcept { return fd_; }
  // Whether a descriptor is held.
  bool valid() const noexcept { return fd_ >= 0; }
  // Gives up ownership without closing: returns the descriptor (or -1) and leaves this empty.
  // The caller closes it, e.g. to see close(2)'s result after writing a file.
  [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
  // Closes the descriptor held (if any and unless it is `fd`) and takes `fd` (negative: none).
  // The close is not retried on EINTR: Linux frees the descriptor even then, and a retry could
  // close one that another thread has just been given.
  void reset(int fd = -1) noexcept;

 private:
  int fd_ = -1;
};

}  // namespace touchpass
