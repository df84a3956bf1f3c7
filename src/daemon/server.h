// Server: the listening socket (bound by us, or passed by systemd socket activation) and one
// thread per connection, admitted by Admission (per-uid limits, a share reserved for root and
// the service group). Requests that need no token are never held up by ones that wait for a
// touch, and no local user can take the slots verification needs.
#pragma once

#include <chrono>
#include <filesystem>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/status.h"
#include "daemon/admission.h"
#include "daemon/peer.h"
#include "daemon/service.h"

namespace touchpass::daemon {

// The socket systemd passed (LISTEN_FDS / LISTEN_PID, fd 3), if any. Clears the variables.
std::optional<int> systemd_socket();

// Binds a stream socket at `path` (replacing a stale socket file; refusing any other file),
// mode 0666 — every local user may connect; the daemon decides by peer credentials.
Result<int> bind_socket(const std::filesystem::path& path);

class Server {
 public:
  // The groups whose members have a role (Peer).
  struct Groups {
    std::string service;
    std::string admin;
    std::string token;
  };
  // Serves `listen_fd` with `service`. `ids` must outlive the server.
  Server(int listen_fd, Service& service, IdentityCache& ids, Groups groups,
         AdmissionLimits limits);
  ~Server();

  // Accepts and serves connections until `stop_fd` becomes readable (e.g. a signalfd for
  // SIGTERM), then ends every session — cancelling token calls — and joins their threads.
  void run(int stop_fd);

 private:
  class Connection;
  void reap(bool all);
  // Admits or refuses the connection `fd` (which it then owns).
  void take(int fd);

  int listen_fd_;
  Service& service_;
  IdentityCache& ids_;
  Groups groups_;
  Admission admission_;
  std::mutex mu_;
  std::list<std::unique_ptr<Connection>> connections_;
  std::chrono::steady_clock::time_point last_refusal_log_{};
};

}  // namespace touchpass::daemon
