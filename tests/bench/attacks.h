// The attackers of touchpass-verify-bench's attack runs:
//   - a connection hog and a slowloris, each a forked child running as user nobody (an
//     unprivileged local user: the daemon's socket is open to everyone), and
//   - a flood of wrong passwords from many remote addresses, sent as root (a service that may
//     verify) by threads of the bench itself.
// All of them stop by themselves at a deadline.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>

#include "bench_clients.h"

namespace touchpass::bench {

enum class AttackKind {
  hog,        // opens as many connections as it can (up to a limit) and holds them, silent;
              // once a second it opens again those the daemon closed
  slowloris,  // the same, but sends one byte of a frame on each connection every 4 s
  cpu_burn,   // a reference that does not touch touchpass: spins on every core (the same user
              // burning CPU), to tell the attacker's own CPU use apart from the daemon's cost
};

// What an attacker child did.
struct AttackerStats {
  bool reported = false;  // false: the child died or could not drop to nobody
  long max_open = 0;      // the most connections open at once
  long max_held = 0;      // the most connections open at once that had been open for >= 1 s
  long open_at_end = 0;
  long connects = 0;  // connections made (the daemon may close them again)
  long closed_by_daemon = 0;
  long bytes_sent = 0;  // slowloris
  std::string error;    // why the child could not run, if it could not
};

// A running attacker child (fork, then setgroups/setgid/setuid to nobody).
class Attacker {
 public:
  // Forks the attacker against `socket` with at most `max_connections` open; it stops by
  // itself after `lifetime`. Call only while the calling process has no other threads.
  // `nice` is the child's scheduling niceness (0: as any user's process; 19: its own CPU use
  // yields to everything else, so what remains is the daemon's cost of the attack). A non-empty
  // `cgroup_procs` moves the child into that cgroup first (cpu_slices.h: the user slice).
  static Attacker start(AttackKind kind, const std::string& socket, int max_connections,
                        std::chrono::seconds lifetime, int nice = 0,
                        const std::string& cgroup_procs = "");
  Attacker(Attacker&& other) noexcept;
  Attacker& operator=(Attacker&&) = delete;
  ~Attacker();  // kills and reaps the child if stop() was not called

  // Waits (at most `timeout`) until the child has made its first round of connections.
  bool wait_ready(std::chrono::milliseconds timeout);
  // Stops the child (SIGTERM; SIGKILL after 5 s) and returns what it reported.
  AttackerStats stop();

 private:
  Attacker(pid_t pid, touchpass::UniqueFd fd) : pid_(pid), fd_(std::move(fd)) {}
  pid_t pid_;
  touchpass::UniqueFd fd_;  // the read end of the child's report pipe
  std::string received_;
};

struct FloodSpec {
  std::string socket;
  int clients = 8;
  Clock::duration duration = 60s;
  int users = 64;  // wrong passwords for users "flood-user-0" … (never the service's user)
  std::chrono::milliseconds timeout = 10s;
};

struct FloodResult {
  long requests = 0;  // answered (all should be refusals)
  long accepted = 0;  // answered ok: must stay 0
  long errors = 0;    // timeouts and broken connections
  double seconds = 0;
  std::string first_error;
};

// Sends verify requests with random wrong passwords, each from a new random address (IPv4 and
// IPv6 alternately), from `spec.clients` connections in a closed loop until the duration ends.
FloodResult run_flood(const FloodSpec& spec);

}  // namespace touchpass::bench
