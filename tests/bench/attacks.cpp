#include "attacks.h"

#include "cpu_slices.h"
#include "support/fd_pairs.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

namespace touchpass::bench {

namespace {

constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;
constexpr auto kSlowlorisTick = 4s;  // under the daemon's 5 s stall limit
// Connections the daemon closed are opened again once a second: enough to take every slot the
// daemon frees, without turning the hog into a flood of connects that only burns CPU.
constexpr auto kRefillEvery = 1s;

volatile sig_atomic_t g_stop = 0;

// SIGTERM in the attacker child: finish the round, report, exit.
void on_term(int) {
  g_stop = 1;
}

// Writes all of `text` to `fd` (the report pipe); errors are ignored.
void report(int fd, const std::string& text) {
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

struct Conn {
  touchpass::UniqueFd fd;
  std::size_t sent;  // slowloris: bytes of the frame sent so far
};

// The cpu_burn child (already nobody): spins on every core until `deadline` or SIGTERM, then
// reports and exits. Never returns.
[[noreturn]] void burn_cpu(Clock::time_point deadline, int report_fd) {
  report(report_fd, "ready\n");
  const long cores = std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN));
  std::vector<pid_t> spinners;
  for (long i = 1; i < cores; ++i) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      while (!g_stop && Clock::now() < deadline) {
      }
      ::_exit(0);
    }
    if (pid > 0) spinners.push_back(pid);
  }
  while (!g_stop && Clock::now() < deadline) {
  }
  for (const pid_t pid : spinners) {
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
  }
  report(report_fd, "stats 0 0 0 0 0 0\n");
  ::_exit(0);
}

// The attacker child's whole life: drops to nobody, attacks until `lifetime` has passed or
// SIGTERM came, reports on `report_fd`, and exits. Never returns.
[[noreturn]] void attacker_main(AttackKind kind, const std::string& socket, int max_connections,
                                std::chrono::seconds lifetime, int nice,
                                const std::string& cgroup_procs, int report_fd) {
  struct sigaction sa {};
  sa.sa_handler = on_term;
  ::sigaction(SIGTERM, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  const auto deadline = Clock::now() + lifetime;
  if (!cgroup_procs.empty() && !move_to_cgroup(cgroup_procs, ::getpid())) {
    report(report_fd, "error cannot join " + cgroup_procs + "\n");
    ::_exit(1);
  }
  if (nice != 0 && ::setpriority(PRIO_PROCESS, 0, nice) != 0) {
    report(report_fd, "error cannot set niceness: " + std::string(std::strerror(errno)) + "\n");
    ::_exit(1);
  }

  const rlim_t files = static_cast<rlim_t>(max_connections) + 64;
  const rlimit limit{files, files};
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0 || ::setgroups(0, nullptr) != 0 ||
      ::setresgid(kNogroup, kNogroup, kNogroup) != 0 ||
      ::setresuid(kNobody, kNobody, kNobody) != 0) {
    report(report_fd, "error cannot become nobody: " + std::string(std::strerror(errno)) + "\n");
    ::_exit(1);
  }
  if (kind == AttackKind::cpu_burn) burn_cpu(deadline, report_fd);

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket.c_str(), sizeof addr.sun_path - 1);
  // Slowloris: a frame announcing 4000 bytes of JSON, sent one byte per tick — never finished.
  std::string frame = std::string("\x00\x00\x0f\xa0\x00\x00", 6) + "{\"v\":1,\"op\":\"list\"";
  frame.resize(6 + 4000, ' ');

  std::vector<Conn> conns;
  conns.reserve(static_cast<std::size_t>(max_connections));
  long max_open = 0, max_held = 0, connects = 0, closed = 0, bytes = 0;
  bool ready = false;
  auto next_refill = Clock::now();
  auto next_tick = Clock::now() + kSlowlorisTick;
  const auto send_byte = [&](Conn& c) {
    if (c.sent >= frame.size()) return;
    if (::send(c.fd.get(), frame.data() + c.sent, 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1) {
      ++c.sent;
      ++bytes;
    }
  };

  while (!g_stop && Clock::now() < deadline) {
    // Open connections up to the limit, while the daemon's backlog takes them.
    if (Clock::now() >= next_refill) {
      next_refill = Clock::now() + kRefillEvery;
      // What is still open now has been held since the last refill, at least.
      max_held = std::max(max_held, static_cast<long>(conns.size()));
      while (static_cast<int>(conns.size()) < max_connections && !g_stop) {
        touchpass::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        if (!fd.valid()) break;  // out of descriptors
        if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
          break;  // EAGAIN: the backlog is full
        }
        ++connects;
        conns.push_back({std::move(fd), 0});
        if (kind == AttackKind::slowloris) send_byte(conns.back());
      }
      max_open = std::max(max_open, static_cast<long>(conns.size()));
      if (!ready) {
        ready = true;
        report(report_fd, "ready\n");
      }
    }
    // Notice the connections the daemon closed (or refused with a "busy" answer).
    std::vector<pollfd> fds;
    fds.reserve(conns.size());
    for (const Conn& c : conns) fds.push_back({c.fd.get(), POLLIN | POLLRDHUP, 0});
    const int ready_count = ::poll(fds.data(), fds.size(), 50);
    if (ready_count > 0) {
      std::vector<Conn> kept;
      kept.reserve(conns.size());
      for (std::size_t i = 0; i < conns.size(); ++i) {
        bool gone = (fds[i].revents & (POLLHUP | POLLRDHUP | POLLERR)) != 0;
        if (!gone && (fds[i].revents & POLLIN) != 0) {
          char buf[512];
          const ssize_t n = ::recv(conns[i].fd.get(), buf, sizeof buf, MSG_DONTWAIT);
          gone = n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
        }
        if (gone) {
          ++closed;  // closed as conns[i] goes
        } else {
          kept.push_back(std::move(conns[i]));
        }
      }
      conns.swap(kept);
    }
    if (kind == AttackKind::slowloris && Clock::now() >= next_tick) {
      next_tick += kSlowlorisTick;
      for (Conn& c : conns) send_byte(c);
    }
  }
  std::ostringstream out;
  out << "stats " << max_open << ' ' << max_held << ' ' << conns.size() << ' ' << connects << ' '
      << closed << ' ' << bytes << '\n';
  report(report_fd, out.str());
  ::_exit(0);
}

}  // namespace

Attacker Attacker::start(AttackKind kind, const std::string& socket, int max_connections,
                         std::chrono::seconds lifetime, int nice, const std::string& cgroup_procs) {
  auto report = touchpass::testing::make_pipe();
  if (!report.ok()) return Attacker(-1, {});
  const pid_t pid = ::fork();
  if (pid == 0) {
    report->read.reset();
    attacker_main(kind, socket, max_connections, lifetime, nice, cgroup_procs, report->write.get());
  }
  report->write.reset();
  if (pid < 0) return Attacker(-1, {});
  return Attacker(pid, std::move(report->read));
}

Attacker::Attacker(Attacker&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      fd_(std::move(other.fd_)),
      received_(std::move(other.received_)) {}

Attacker::~Attacker() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

bool Attacker::wait_ready(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (received_.find("ready\n") == std::string::npos) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (!fd_.valid() || left <= 0) return false;
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char buf[256];
    const ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    if (n <= 0) return false;  // the child is gone
    received_.append(buf, static_cast<std::size_t>(n));
  }
  return true;
}

AttackerStats Attacker::stop() {
  AttackerStats stats;
  if (pid_ <= 0) {
    stats.error = "the attacker could not be started";
    return stats;
  }
  ::kill(pid_, SIGTERM);
  // Read the report until the child closes the pipe (it exits), at most 5 s.
  const auto deadline = Clock::now() + 5s;
  while (fd_.valid()) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char buf[256];
    const ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    if (n <= 0) break;
    received_.append(buf, static_cast<std::size_t>(n));
  }
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
  }
  pid_ = -1;
  if (const auto at = received_.find("stats "); at != std::string::npos) {
    std::istringstream in(received_.substr(at + 6));
    in >> stats.max_open >> stats.max_held >> stats.open_at_end >> stats.connects >>
        stats.closed_by_daemon >> stats.bytes_sent;
    stats.reported = !in.fail();
  }
  if (const auto at = received_.find("error "); at != std::string::npos) {
    stats.error = received_.substr(at + 6, received_.find('\n', at) - at - 6);
  } else if (!stats.reported) {
    stats.error = "the attacker sent no report";
  }
  return stats;
}

FloodResult run_flood(const FloodSpec& spec) {
  FloodResult result;
  std::mutex mu;
  const auto start = Clock::now();
  const auto deadline = start + spec.duration;
  std::vector<std::thread> threads;
  for (int c = 0; c < spec.clients; ++c) {
    threads.emplace_back([&, c] {
      std::uint64_t state = static_cast<std::uint64_t>(start.time_since_epoch().count()) +
                            static_cast<std::uint64_t>(c) * std::uint64_t{0x1000193};
      long answered = 0, accepted_count = 0, errors = 0;
      std::string error, first_error;
      std::optional<FrameClient> conn;
      for (long k = 0; Clock::now() < deadline; ++k) {
        if (!conn) {
          conn = FrameClient::connect(spec.socket, spec.timeout, &error);
          if (!conn) {
            ++errors;
            if (first_error.empty()) first_error = error;
            std::this_thread::sleep_for(10ms);
            continue;
          }
        }
        const std::string user =
            "flood-user-" + std::to_string(next_random(state) % static_cast<unsigned>(spec.users));
        const std::string remote = k % 2 == 0 ? random_ipv4(state) : random_ipv6(state);
        const std::string frame = verify_frame(user, "imap", remote, random_password(state));
        if (!conn->round_trip(frame, error)) {
          ++errors;
          if (first_error.empty()) first_error = error;
          conn.reset();
          std::this_thread::sleep_for(10ms);
          continue;
        }
        ++answered;
        if (accepted(frame, *conn)) ++accepted_count;
      }
      std::lock_guard lock(mu);
      result.requests += answered;
      result.accepted += accepted_count;
      result.errors += errors;
      if (result.first_error.empty()) result.first_error = first_error;
    });
  }
  for (auto& t : threads) t.join();
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

}  // namespace touchpass::bench
