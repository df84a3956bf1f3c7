// Server: the listening socket (bound by us, or passed by systemd socket activation) and one
// thread per connection, up to a limit. Requests that need no token are never held up by
// ones that wait for a touch.
#pragma once

#include <filesystem>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "core/status.h"
#include "daemon/service.h"

namespace touchpass::daemon {

// The socket systemd passed (LISTEN_FDS / LISTEN_PID, fd 3), if any. Clears the variables.
std::optional<int> systemd_socket();

// Binds a stream socket at `path` (replacing a stale socket file; refusing any other file),
// mode 0666 — every local user may connect; the daemon decides by peer credentials.
Result<int> bind_socket(const std::filesystem::path& path);

class Server {
 public:
  Server(int listen_fd, Service& service, int max_clients);
  ~Server();

  // Accepts and serves connections until `stop_fd` becomes readable (e.g. a signalfd for
  // SIGTERM), then ends every session — cancelling token calls — and joins their threads.
  void run(int stop_fd);

 private:
  class Connection;
  void reap(bool all);

  int listen_fd_;
  Service& service_;
  int max_clients_;
  std::mutex mu_;
  std::list<std::unique_ptr<Connection>> connections_;
};

}  // namespace touchpass::daemon
