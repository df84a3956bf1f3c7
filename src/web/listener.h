// The listening socket touchpass-web serves on, created before the HTTP server starts (so
// that a port of 0 can be chosen by the system and reported, and a Unix socket gets its
// permissions). The HTTP library takes the descriptor over; the Listener keeps the Unix
// socket's path and removes it when destroyed.
#pragma once

#include <cstdint>
#include <filesystem>

#include "core/fd.h"
#include "core/status.h"
#include "web/listen_address.h"

namespace touchpass::web {

class Listener {
 public:
  // Binds and listens on `address`: TCP with SO_REUSEADDR (IPv6 sockets are IPv6-only); a Unix
  // socket replaces a stale socket file at its path (never another kind of file) and is made
  // mode 0660 (the reverse proxy's group reaches it through the directory's group).
  // Error io_error with the address and the reason.
  static Result<Listener> open(const ListenAddress& address);

  Listener(Listener&& other) noexcept;
  Listener& operator=(Listener&&) = delete;
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  // Removes the Unix socket's path, if any.
  ~Listener();

  // The descriptor, while this still owns it.
  int fd() const { return fd_.get(); }
  // Gives up the descriptor (the HTTP server closes it).
  [[nodiscard]] int release_fd() { return fd_.release(); }
  // The port bound (tcp; the system's choice for port 0), or 0 for a Unix socket.
  std::uint16_t port() const { return port_; }

 private:
  Listener(UniqueFd fd, std::uint16_t port, std::filesystem::path unix_path);

  UniqueFd fd_;
  std::uint16_t port_ = 0;
  std::filesystem::path unix_path_;
};

}  // namespace touchpass::web
