// Verification under attack, with the real daemon and attackers as separate processes and
// uids: a local user holding every connection it may, a slowloris that trickles bytes, a flood
// of wrong passwords from many sources, and concurrent guesses from one source. Through all of
// it a service's right password keeps verifying. No timing is asserted: only outcomes.
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <thread>

#include "daemon/daemon_harness.h"
#include "support/fd_pairs.h"

namespace touchpass::testing {
namespace {

using namespace std::chrono_literals;
using ipc::Json;

// True when the daemon has closed `fd` (or answered and closed), within `wait`.
bool closed_by_daemon(int fd, std::chrono::milliseconds wait) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return false;
  char buf[512];
  while (true) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0) return errno != EAGAIN;
  }
}

// Runs `body` in a child process as `uid`; the child reports one number through a pipe and
// then waits until release() (or destruction) ends it.
class Attacker {
 public:
  template <class Body>
  Attacker(uid_t uid, gid_t gid, Body body) {
    auto report = make_pipe();
    auto hold = make_pipe();
    EXPECT_TRUE(report.ok() && hold.ok()) << "pipe2 failed";
    if (!report.ok() || !hold.ok()) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      report->read.reset();
      hold->write.reset();
      long result = -1;
      if (::setgroups(0, nullptr) == 0 && ::setresgid(gid, gid, gid) == 0 &&
          ::setresuid(uid, uid, uid) == 0) {
        result = body();
      }
      (void)!::write(report->write.get(), &result, sizeof result);
      char c;
      (void)!::read(hold->read.get(), &c, 1);  // until the parent releases us (EOF)
      ::_exit(0);
    }
    report_ = std::move(report->read);
    hold_ = std::move(hold->write);
  }
  ~Attacker() { release(); }

  // The number the child reported (-1 if it failed).
  long result() {
    long value = -1;
    if (report_.valid()) {
      if (::read(report_.get(), &value, sizeof value) != sizeof value) value = -1;
      report_.reset();
    }
    return value;
  }
  void release() {
    hold_.reset();
    if (pid_ > 0) ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  UniqueFd report_;  // the child's number comes out of it
  UniqueFd hold_;    // the child waits until it closes
};

// A pids cgroup holding one process: a limit on how many threads it may have. The cgroup v1
// `pids` hierarchy or, failing that, cgroup v2 with the pids controller; create() gives
// nothing when neither can be written here (no cgroup file system, or not root).
class ThreadLimit {
 public:
  static std::unique_ptr<ThreadLimit> create(pid_t pid) {
    const std::string name = "touchpass-test-" + std::to_string(::getpid());
    for (const char* root : {"/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified", "/sys/fs/cgroup"}) {
      const fs::path dir = fs::path(root) / name;
      std::error_code ec;
      if (!fs::exists(fs::path(root) / "cgroup.procs", ec) || !fs::create_directory(dir, ec)) {
        continue;
      }
      auto limit = std::unique_ptr<ThreadLimit>(new ThreadLimit(root, dir));
      if (fs::exists(dir / "pids.max", ec) && write(dir / "cgroup.procs", std::to_string(pid))) {
        return limit;
      }
    }
    return nullptr;
  }
  ~ThreadLimit() {
    // Whatever is still in the cgroup goes back to the parent, so that it can be removed.
    std::ifstream procs(dir_ / "cgroup.procs");
    for (std::string pid; std::getline(procs, pid);) write(root_ / "cgroup.procs", pid);
    // A process that has just died leaves the cgroup only once it is reaped.
    std::error_code ec;
    for (int i = 0; i < 100 && !fs::remove(dir_, ec) && fs::exists(dir_); ++i) {
      std::this_thread::sleep_for(20ms);
    }
  }
  // The tasks (threads) in the cgroup now.
  long current() const {
    std::ifstream in(dir_ / "pids.current");
    long n = -1;
    in >> n;
    return n;
  }
  bool set_max(long n) { return write(dir_ / "pids.max", std::to_string(n)); }

 private:
  ThreadLimit(fs::path root, fs::path dir) : root_(std::move(root)), dir_(std::move(dir)) {}
  static bool write(const fs::path& file, const std::string& text) {
    std::ofstream out(file);
    out << text << std::flush;
    return static_cast<bool>(out);
  }
  fs::path root_;
  fs::path dir_;
};

class AttackTest : public ::testing::Test {
 protected:
  void start(const std::string& config) {
    Deployment::Options options;
    options.extra_config = config;
    deployment_ = std::make_unique<Deployment>(options);
    ASSERT_TRUE(deployment_->start_token());
    ASSERT_TRUE(deployment_->start_daemon()) << deployment_->daemon_log();
    auto client = Client::connect(deployment_->socket());
    ASSERT_TRUE(client);
    ASSERT_EQ(client->call(req("enroll"), "123456")->final.kind, ipc::Reply::Kind::ok);
    auto issued = client->call(req("issue", {{"name", "mail"}}), "123456");
    ASSERT_TRUE(issued && !issued->secret.empty());
    password_ = issued->secret;
  }

  // The service (root) verifies `password` for root from `remote`, through the verification
  // socket as pam_touchpass does.
  Code verify(const std::string& password, const std::string& remote = "127.0.0.1") {
    auto client = Client::connect(deployment_->verify_socket());
    if (!client) return Code::io_error;
    Json r = req("verify", {{"user", "root"}, {"service", "imap"}, {"remote", remote}});
    auto ex = client->send(r, password);
    if (!ex) return Code::io_error;
    return ex->final.kind == ipc::Reply::Kind::ok ? Code::ok : ex->final.error.code;
  }

  // `n` verifications of the right password from `threads` concurrent services; how many
  // were accepted.
  int service_logins(int n, int threads) {
    std::atomic<int> ok{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        for (int i = 0; i < n / threads; ++i) ok += verify(password_) == Code::ok;
      });
    }
    for (auto& th : pool) th.join();
    return ok;
  }

  // Verify audit entries about `source`: the sum of the counts of each reason.
  std::map<std::string, int> refusal_reasons(const std::string& source) {
    auto client = Client::connect(deployment_->socket());
    auto log = client->call(req("log", {{"all_users", true}}));
    std::map<std::string, int> reasons;
    const std::regex reason(R"(([^,]+?)(?: ×(\d+))?(?:, |$))");
    for (const auto& e : log->final.body["entries"]) {
      const std::string detail = e["detail"];
      if (e["action"] != "verify" || detail.find(" from " + source + " (") == std::string::npos) {
        continue;
      }
      const std::string list = detail.substr(detail.find("UTC): ") + 6);
      for (std::sregex_iterator it(list.begin(), list.end(), reason), end; it != end; ++it) {
        reasons[(*it)[1]] += (*it)[2].matched ? std::stoi((*it)[2]) : 1;
      }
    }
    return reasons;
  }

  std::uintmax_t store_bytes() {
    std::uintmax_t total = 0;
    for (const char* suffix : {"", "-wal"}) {
      std::error_code ec;
      const auto size = fs::file_size(deployment_->store().string() + suffix, ec);
      if (!ec) total += size;
    }
    return total;
  }

  std::unique_ptr<Deployment> deployment_;
  std::string password_;
};

TEST_F(AttackTest, ALocalUserHoldingEveryConnectionItMayCannotStopVerification) {
  start("max_clients = 64\nmax_clients_per_user = 8\nreserved_clients = 16\n");
  const fs::path socket = deployment_->socket();
  // Each attacker opens 100 connections and keeps those the daemon did not refuse.
  const auto hog = [socket]() -> long {
    static std::vector<UniqueFd> held;  // kept open until the process ends
    for (int i = 0; i < 100; ++i) {
      if (UniqueFd fd = connect_unix(socket); fd.valid()) held.push_back(std::move(fd));
    }
    long open = 0;
    for (const UniqueFd& fd : held) open += !closed_by_daemon(fd.get(), 300ms);
    return open;
  };
  Attacker nobody(kNobody, kNogroup, hog);
  Attacker daemon_user(kDaemonUser, kDaemonGroup, hog);
  EXPECT_EQ(nobody.result(), 8);
  EXPECT_EQ(daemon_user.result(), 8);
  // The verification socket is not theirs to queue on at all.
  const fs::path verify_socket = deployment_->verify_socket();
  Attacker shut_out(kNobody, kNogroup, [verify_socket]() -> long {
    if (connect_unix(verify_socket).valid()) return 1;
    return errno == EACCES ? 0 : -1;
  });
  EXPECT_EQ(shut_out.result(), 0);
  // Refused connections were told why.
  UniqueFd fd = connect_unix(socket);
  ASSERT_TRUE(fd.valid());
  EXPECT_EQ(service_logins(64, 16), 64);
  fd.reset();
  EXPECT_EQ(verify("wrong-password-text"), Code::refused);
}

TEST_F(AttackTest, ASlowlorisIsCutOffByTheWholeMessageDeadline) {
  start("max_clients_per_user = 8\n");
  const fs::path socket = deployment_->socket();
  // As nobody: 8 connections, each sending one byte of a message every 500 ms — never
  // silent for long, so only a deadline for the whole message can end them. Reports how many
  // the daemon closed before the message could complete.
  Attacker slow(kNobody, kNogroup, [socket]() -> long {
    const std::string header("\x00\x00\x00\x64\x00\x00", 6);  // a 100-byte message follows
    std::vector<UniqueFd> fds;
    for (int i = 0; i < 8; ++i) fds.push_back(connect_unix(socket));
    std::vector<bool> closed(fds.size(), false);
    long cut = 0;
    for (std::size_t byte = 0; byte < header.size() + 100 && cut < 8; ++byte) {
      for (std::size_t i = 0; i < fds.size(); ++i) {
        if (closed[i]) continue;
        const char c = byte < header.size() ? header[byte] : '{';
        if (::send(fds[i].get(), &c, 1, MSG_NOSIGNAL) != 1 || closed_by_daemon(fds[i].get(), 0ms)) {
          closed[i] = true;
          ++cut;
        }
      }
      std::this_thread::sleep_for(500ms);
    }
    return cut;
  });
  // Meanwhile the service logs in.
  EXPECT_EQ(service_logins(40, 4), 40);
  EXPECT_EQ(slow.result(), 8);
  EXPECT_EQ(service_logins(8, 2), 8);
}

TEST_F(AttackTest, AFloodOfWrongPasswordsFromManySourcesLeavesTheServiceAndTheDiskAlone) {
  start("failure_delay_ms = 0\nlockout_failures = 5\n");
  const std::uintmax_t before = store_bytes();
  std::atomic<bool> stop{false};
  std::atomic<int> refused{0};
  std::vector<std::thread> flood;
  for (int t = 0; t < 6; ++t) {
    flood.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t));
      const auto next = [&rng](unsigned mod) { return static_cast<unsigned>(rng() % mod); };
      auto client = Client::connect(deployment_->socket());
      for (int i = 0; i < 600 && !stop; ++i) {
        char remote[64];
        if (i % 2 == 0) {
          std::snprintf(remote, sizeof remote, "10.%u.%u.%u", next(256), next(256), next(256));
        } else {
          std::snprintf(remote, sizeof remote, "2001:db8:%x:%x::1", next(65536), next(65536));
        }
        Json r = req("verify", {{"user", "root"}, {"service", "imap"}, {"remote", remote}});
        auto ex = client->send(r, "k7qm-x9fj-4tca-2hwe-p3vn");
        if (ex && ex->final.error.code == Code::refused) ++refused;
      }
    });
  }
  const int logins = service_logins(60, 2);
  for (auto& th : flood) th.join();
  EXPECT_EQ(logins, 60);
  EXPECT_EQ(refused.load(), 3600);
  ASSERT_EQ(deployment_->stop_daemon(), 0);  // writes what is pending
  const std::uintmax_t after = store_bytes();
  EXPECT_LT(after, before + (1u << 20)) << before << " → " << after << " bytes";
  ASSERT_TRUE(deployment_->start_daemon());
  auto client = Client::connect(deployment_->socket());
  auto log = client->call(req("log", {{"all_users", true}, {"verify", true}}));
  ASSERT_TRUE(log);
  EXPECT_TRUE(log->final.body["chain_ok"].get<bool>());
  EXPECT_LT(log->final.body["entries"].size(), 3600u / 4);  // aggregated, not one per refusal
}

TEST_F(AttackTest, ConcurrentGuessesFromOneSourceAreNeverEvaluatedPastTheLimit) {
  start("failure_delay_ms = 0\nlockout_failures = 10\n");
  std::vector<std::thread> guesses;
  std::atomic<int> refused{0};
  std::atomic<bool> go{false};
  for (int i = 0; i < 200; ++i) {
    guesses.emplace_back([&] {
      auto client = Client::connect(deployment_->socket());
      if (!client) return;
      while (!go) std::this_thread::yield();
      Json r = req("verify", {{"user", "root"}, {"service", "imap"}, {"remote", "192.0.2.50"}});
      auto ex = client->send(r, "k7qm-x9fj-4tca-2hwe-p3vn");
      if (ex && ex->final.error.code == Code::refused) ++refused;
    });
  }
  go = true;
  for (auto& g : guesses) g.join();
  EXPECT_EQ(refused.load(), 200);
  const auto reasons = refusal_reasons("192.0.2.50");
  EXPECT_EQ(reasons.count("unknown password") ? reasons.at("unknown password") : 0, 10);
  EXPECT_EQ(reasons.at("source locked after too many failures; not evaluated"), 190);
  // The right password is refused from that source, and accepted from another.
  EXPECT_EQ(verify(password_, "192.0.2.50"), Code::refused);
  EXPECT_EQ(verify(password_, "192.0.2.51"), Code::ok);
}

TEST_F(AttackTest, AConnectionTheSystemHasNoThreadForIsClosedAndFreesItsSlot) {
  start("max_clients = 4\nreserved_clients = 2\n");
  auto limit = ThreadLimit::create(deployment_->daemon_pid());
  if (!limit) GTEST_SKIP() << "no pids cgroup can be created here to limit the daemon's threads";
  ASSERT_GT(limit->current(), 1);
  ASSERT_TRUE(limit->set_max(1));  // below what it has: no new thread for touchpassd
  // More connections than there are slots: each is closed, and its slot given back.
  for (int i = 0; i < 10; ++i) {
    UniqueFd fd = connect_unix(deployment_->socket());
    ASSERT_TRUE(fd.valid());
    EXPECT_TRUE(closed_by_daemon(fd.get(), 10s)) << "connection " << i;
  }
  EXPECT_TRUE(deployment_->daemon_running());
  EXPECT_NE(deployment_->daemon_log().find("refused a connection: no thread"), std::string::npos)
      << deployment_->daemon_log();
  // Threads again: the daemon serves as before, every slot free.
  ASSERT_TRUE(limit->set_max(limit->current() + 256));
  EXPECT_EQ(verify(password_), Code::ok);
  auto client = Client::connect(deployment_->socket());
  ASSERT_TRUE(client);
  auto listed = client->call(req("list"));
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->final.kind, ipc::Reply::Kind::ok) << listed->final.error.message;
}

}  // namespace
}  // namespace touchpass::testing
