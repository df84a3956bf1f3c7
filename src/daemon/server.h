// Server: the listening socket (bound by us, or passed by systemd socket activation) and one
// thread per connection, admitted by Admission (per-uid limits, a share reserved for root and
// the service group). Requests that need no token are never held up by ones that wait for a
// touch, and no local user can take the slots verification needs.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/fd.h"
#include "core/status.h"
#include "daemon/admission.h"
#include "daemon/peer.h"
#include "daemon/service.h"

namespace touchpass::daemon {

// The socket systemd passed (LISTEN_FDS / LISTEN_PID, fd 3), now owned by the caller; empty
// when there is none. Clears the variables.
UniqueFd systemd_socket();

// Binds a stream socket at `path` (replacing a stale socket file; refusing any other file, and
// a socket another process serves) with `mode` from the moment it exists, and — when `group` is
// given — that group. The main socket is 0666: every local user may connect, and the daemon
// decides by peer credentials; the verification socket is 0660 for the service group. Returns
// the listening socket, owned by the caller.
Result<UniqueFd> bind_socket(const std::filesystem::path& path, mode_t mode = 0666,
                             std::optional<gid_t> group = std::nullopt);

class Server {
 public:
  // The groups whose members have a role (Peer).
  struct Groups {
    std::string service;
    std::string admin;
    std::string token;
    std::string gateway;  // touchpass-web's
  };
  // A listening socket. The verification socket's connections are served at normal priority;
  // the others' (every local user's) at a lower one, so that a flood of connections there
  // cannot take the CPU verification needs. `fd` stays the caller's, open while the server
  // runs.
  struct Listener {
    int fd = -1;
    bool verification = false;
  };
  // Serves every socket of `listeners` (each with its own accepting thread, so that a flood on
  // one never delays the others) with `service`. `ids` must outlive the server.
  Server(std::vector<Listener> listeners, Service& service, IdentityCache& ids, Groups groups,
         AdmissionLimits limits);
  ~Server();

  // Accepts and serves connections until `stop_fd` becomes readable (e.g. a signalfd for
  // SIGTERM), then ends every session — cancelling token calls — and joins their threads.
  void run(int stop_fd);

 private:
  class Connection;
  // The sessions of one listener. Each accept loop joins only its own finished sessions, so
  // the verification loop never spends time on ordinary users' (a slowloris's) threads.
  struct Sessions {
    std::mutex mu;
    std::list<std::unique_ptr<Connection>> connections;
  };
  // Joins `sessions`' finished connections (all of them, shutting them down, when `all`).
  static void reap(Sessions& sessions, bool all);
  // Admits the connection `fd` into `sessions`, or refuses (and closes) it.
  void take(UniqueFd fd, Sessions& sessions);
  // Accepts on `listener` until `stop_fd` becomes readable.
  void accept_loop(Listener listener, Sessions& sessions, int stop_fd);

  std::vector<Listener> listeners_;
  Service& service_;
  IdentityCache& ids_;
  Groups groups_;
  Admission admission_;
  std::vector<std::unique_ptr<Sessions>> sessions_;  // one per listener
  std::atomic<std::int64_t> last_refusal_log_{0};    // steady-clock seconds
};

}  // namespace touchpass::daemon
