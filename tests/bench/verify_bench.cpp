// touchpass-verify-bench: the figures of issue 9 for the release notes. A benchmark, never a
// test: it asserts nothing about time; it prints tables and the targets beside them.
//
// Every section runs the real programs (touchpassd and a virtual token, started in a temporary
// directory by the integration harness), enrolls the token and issues app passwords through
// the daemon, then measures:
//   throughput  verifies/s through touchpassd at 1, 2 and 16 clients against the round trips/s
//               of a bare echo server (touchpass-echo-server, a separate process, same framing,
//               same client code), with per-request latency p50/p99/max;
//   cpu         touchpassd's CPU time per verify (/proc/PID/stat) against one bcrypt (cost 10)
//               and one Argon2id (m = 19 MiB, t = 2, p = 1) check;
//   memory      touchpassd's RssAnon idle after start and after M verifies (16 clients);
//   grants      verify latency with N grants in the store (rows inserted straight into the
//               SQLite file), over a run long enough for two usage flushes;
//   attacks     a steady service's verifies while a local user hogs connections, while one
//               plays slowloris, and during a flood of wrong passwords from many addresses.
#include <argon2.h>
#include <crypt.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "attacks.h"
#include "bench_clients.h"
#include "cpu_slices.h"
#include "daemon/daemon_harness.h"

namespace {

namespace fs = std::filesystem;
using namespace touchpass::bench;
using touchpass::testing::Client;
using touchpass::testing::Deployment;
using touchpass::testing::Process;
using touchpass::testing::req;

constexpr const char* kUsage =
    R"(usage: touchpass-verify-bench [options]
  --seconds S            length of each throughput/cpu run (default 5); the grant runs last
                         max(S, 12) s, the hog and slowloris runs max(S, 10) s
  --grants N             the grants section with N grants in the store
  --compare-grants A,B   … with A, then with B grants, in one run (default 1000,1000000)
  --verifies M           verifies before the second memory reading (default 1000000)
  --checks K             bcrypt and Argon2id checks timed (default 50, after 3 warm-ups)
  --flood-seconds S      length of the wrong-password flood (default 60)
  --attacks              only the attacks (same as --only attacks)
  --only LIST            comma-separated sections: throughput,cpu,memory,grants,attacks,slices
  --slices               also the section "slices": the connection attacks again with the
                         attacker in a user slice and the daemon in a system slice of equal
                         CPU weight (needs root and a cgroup file system with a CPU controller)
                         (default: all)
)";

constexpr int kPasswords = 20;  // issued passwords; clients cycle through them
constexpr const char* kUser = "root";
constexpr const char* kService = "imap";
constexpr const char* kServiceRemote = "127.0.0.1";  // the flood never uses it

struct Options {
  int seconds = 5;
  std::vector<long> grants = {1000, 1000000};
  long verifies = 1000000;
  int checks = 50;
  int flood_seconds = 60;
  std::set<std::string> only = {"throughput", "cpu", "memory", "grants", "attacks"};
};

// Parses the command line into `out`; false (after printing why) on a bad argument.
bool parse_args(int argc, char** argv, Options& out) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  const auto number = [](const std::string& text, long min, long& value) {
    char* end = nullptr;
    errno = 0;
    value = std::strtol(text.c_str(), &end, 10);
    return errno == 0 && end != text.c_str() && *end == '\0' && value >= min;
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool has_value = i + 1 < args.size();
    long v = 0;
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (a == "--slices") {
      out.only.insert("slices");
    } else if (a == "--attacks") {
      out.only = {"attacks"};
    } else if (a == "--seconds" && has_value && number(args[++i], 1, v)) {
      out.seconds = static_cast<int>(v);
    } else if (a == "--grants" && has_value && number(args[++i], 0, v)) {
      out.grants = {v};
    } else if (a == "--compare-grants" && has_value) {
      const std::string list = args[++i];
      const auto comma = list.find(',');
      long b = 0;
      if (comma == std::string::npos || !number(list.substr(0, comma), 0, v) ||
          !number(list.substr(comma + 1), 0, b)) {
        std::fprintf(stderr, "--compare-grants expects A,B\n%s", kUsage);
        return false;
      }
      out.grants = {v, b};
    } else if (a == "--verifies" && has_value && number(args[++i], 1, v)) {
      out.verifies = v;
    } else if (a == "--checks" && has_value && number(args[++i], 1, v)) {
      out.checks = static_cast<int>(v);
    } else if (a == "--flood-seconds" && has_value && number(args[++i], 1, v)) {
      out.flood_seconds = static_cast<int>(v);
    } else if (a == "--only" && has_value) {
      out.only.clear();
      std::string list = args[++i] + ",";
      for (std::size_t at = 0, comma; (comma = list.find(',', at)) != std::string::npos;
           at = comma + 1) {
        const std::string name = list.substr(at, comma - at);
        if (name != "throughput" && name != "cpu" && name != "memory" && name != "grants" &&
            name != "attacks" && name != "slices") {
          std::fprintf(stderr, "unknown section \"%s\"\n%s", name.c_str(), kUsage);
          return false;
        }
        out.only.insert(name);
      }
    } else {
      std::fprintf(stderr, "bad argument \"%s\"\n%s", a.c_str(), kUsage);
      return false;
    }
  }
  return true;
}

using DbPtr = std::unique_ptr<sqlite3, decltype(&sqlite3_close)>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)>;

// Prepares `sql` on `db`; a null statement if it does not compile.
StmtPtr prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
  return StmtPtr(stmt, &sqlite3_finalize);
}

// Adds grants to the store at `path` (touchpassd must not be running) until it holds `total`,
// all of the first active token, in one transaction through one prepared statement: random
// 16-byte grant ids and 32-byte verifiers (which no password hashes to), names bulk-I, users
// spread over 10,000 names. Returns the seconds it took, or a negative number with `error` set.
// The filler rows carry no MAC (store/integrity.h): no password finds them, so none is checked;
// they are there to make the table and its index as big as a deployment's.
double fill_grants(const fs::path& path, long total, std::string& error) {
  const auto start = Clock::now();
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
  DbPtr db(raw, &sqlite3_close);
  const auto fail = [&](const char* what) {
    error = std::string(what) + ": " + (raw ? sqlite3_errmsg(raw) : "out of memory");
    return -1.0;
  };
  if (rc != SQLITE_OK) return fail("open the store");
  sqlite3_busy_timeout(raw, 5000);
  if (sqlite3_exec(raw, "PRAGMA cache_size=-1048576; PRAGMA synchronous=OFF", nullptr, nullptr,
                   nullptr) != SQLITE_OK) {
    return fail("configure");
  }
  auto count = prepare(raw, "SELECT count(*) FROM grants");
  if (!count || sqlite3_step(count.get()) != SQLITE_ROW) return fail("count the grants");
  const long existing = static_cast<long>(sqlite3_column_int64(count.get(), 0));
  auto token = prepare(raw,
                       "SELECT id, kind, credential FROM tokens WHERE revoked IS NULL "
                       "ORDER BY id LIMIT 1");
  if (!token || sqlite3_step(token.get()) != SQLITE_ROW) return fail("find the token");
  const sqlite3_int64 token_id = sqlite3_column_int64(token.get(), 0);
  const std::string kind(reinterpret_cast<const char*>(sqlite3_column_text(token.get(), 1)));
  const auto* cred = static_cast<const std::uint8_t*>(sqlite3_column_blob(token.get(), 2));
  const std::vector<std::uint8_t> credential(cred, cred + sqlite3_column_bytes(token.get(), 2));

  if (sqlite3_exec(raw, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) return fail("begin");
  auto insert = prepare(raw,
                        "INSERT INTO grants (grant_id, user, name, scopes, created, expires, "
                        "token_id, kind, credential, verifier, proof_auth_data, proof_signature) "
                        "VALUES (?, ?, ?, '', ?, 0, ?, ?, ?, ?, x'', x'')");
  if (!insert) return fail("prepare the insert");
  std::uint64_t state = (static_cast<std::uint64_t>(std::random_device{}()) << 32) ^
                        static_cast<std::uint64_t>(std::time(nullptr));
  const sqlite3_int64 now = std::time(nullptr);
  for (long i = existing; i < total; ++i) {
    std::uint64_t grant_id[2] = {next_random(state), next_random(state)};
    std::uint64_t verifier[4] = {next_random(state), next_random(state), next_random(state),
                                 next_random(state)};
    const std::string user = "bulk-user-" + std::to_string(i % 10000);
    const std::string name = "bulk-" + std::to_string(i);
    sqlite3_stmt* s = insert.get();
    sqlite3_bind_blob(s, 1, grant_id, sizeof grant_id, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, user.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, name.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now);
    sqlite3_bind_int64(s, 5, token_id);
    sqlite3_bind_text(s, 6, kind.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 7, credential.data(), static_cast<int>(credential.size()), SQLITE_STATIC);
    sqlite3_bind_blob(s, 8, verifier, sizeof verifier, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE) return fail("insert a grant");
    sqlite3_reset(s);
  }
  if (sqlite3_exec(raw, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) return fail("commit");
  insert.reset();
  token.reset();
  count.reset();
  if (sqlite3_exec(raw, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr) !=
      SQLITE_OK) {
    return fail("checkpoint");
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The size of the store: its .db and -wal files, in bytes.
std::uintmax_t store_bytes(const fs::path& db) {
  std::error_code ec;
  std::uintmax_t total = 0;
  for (const fs::path& p : {db, fs::path(db.string() + "-wal")}) {
    const auto size = fs::file_size(p, ec);
    if (!ec) total += size;
  }
  return total;
}

// A daemon and a virtual token with one enrolled token and kPasswords issued passwords.
struct Setup {
  std::unique_ptr<Deployment> deployment;
  pid_t pid = -1;
  long rss_after_start_kb = -1;  // RssAnon right after start, before any request
  std::vector<std::string> passwords;
  std::vector<std::string> frames;  // verify requests of the service, one per password
  double fill_seconds = 0;
  std::string socket() const { return deployment->socket().string(); }
  // Where pam_touchpass verifies: root and the service group only.
  std::string verify_socket() const { return deployment->verify_socket().string(); }
};

// Starts a deployment with `extra_config` lines, enrolls, issues the passwords and, if
// `grants` > 0, fills the store up to that many grants (the daemon is stopped meanwhile).
// nullopt (after printing why) if any step fails.
std::optional<Setup> start_setup(const std::string& extra_config, long grants = 0) {
  Setup s;
  Deployment::Options options;
  options.extra_config = extra_config;
  s.deployment = std::make_unique<Deployment>(options);
  Deployment& d = *s.deployment;
  if (!d.start_token() || !d.start_daemon()) {
    std::fprintf(stderr, "cannot start touchpassd and the virtual token\n%s",
                 d.daemon_log().c_str());
    return std::nullopt;
  }
  s.pid = peer_pid(s.socket());
  if (s.pid <= 0) {
    std::fprintf(stderr, "cannot find touchpassd's process id\n");
    return std::nullopt;
  }
  std::this_thread::sleep_for(300ms);
  s.rss_after_start_kb = status_kb(s.pid, "RssAnon");
  auto client = Client::connect(d.socket());
  const auto enrolled = client ? client->call(req("enroll"), "123456") : std::nullopt;
  if (!enrolled || enrolled->final.kind != touchpass::ipc::Reply::Kind::ok) {
    std::fprintf(stderr, "cannot enroll the virtual token\n");
    return std::nullopt;
  }
  for (int i = 0; i < kPasswords; ++i) {
    const auto issued =
        client->call(req("issue", {{"name", "bench-" + std::to_string(i)}}), "123456");
    if (!issued || issued->final.kind != touchpass::ipc::Reply::Kind::ok ||
        issued->secret.empty()) {
      std::fprintf(stderr, "cannot issue a password\n");
      return std::nullopt;
    }
    s.passwords.push_back(issued->secret);
    s.frames.push_back(verify_frame(kUser, kService, kServiceRemote, issued->secret));
  }
  client.reset();
  if (grants > 0) {
    d.stop_daemon();
    std::string error;
    s.fill_seconds = fill_grants(d.store(), grants, error);
    if (s.fill_seconds < 0) {
      std::fprintf(stderr, "cannot fill the store: %s\n", error.c_str());
      return std::nullopt;
    }
    if (!d.start_daemon()) {
      std::fprintf(stderr, "touchpassd did not restart\n%s", d.daemon_log().c_str());
      return std::nullopt;
    }
    s.pid = peer_pid(s.socket());
    if (s.pid <= 0) {
      std::fprintf(stderr, "cannot find touchpassd's process id\n");
      return std::nullopt;
    }
  }
  return s;
}

// A short note of a run's failures ("" if none).
std::string failure_note(const LoadResult& r) {
  if (r.failures == 0) return "";
  return "  (" + std::to_string(r.failures) + " failed: " + r.first_error + ")";
}

// "yes", or a "NO" that stands out in a table.
std::string yes_no(bool b) {
  return b ? "yes" : "NO";
}

// ---- throughput ----

// Verifies/s and latency through touchpassd, and round trips/s through the echo server, at 1, 2
// and 16 closed-loop clients of `o.seconds` each; the daemon's CPU time per verify beside.
void throughput(const Options& o) {
  std::printf("\n== Throughput: verifies through touchpassd vs bare echo round trips ==\n");
  auto s = start_setup("failure_delay_ms = 0\n");
  if (!s) return;
  const fs::path echo_socket = s->deployment->dir() / "echo.sock";
  Process echo = Process::start({TOUCHPASS_ECHO_SERVER, echo_socket.string()},
                                s->deployment->dir() / "echo.log");
  if (!touchpass::testing::wait_for_socket(echo_socket, 5000ms)) {
    std::fprintf(stderr, "touchpass-echo-server did not start\n");
    return;
  }
  std::printf("%d s per run, persistent connections, closed loop, %zu passwords cycled\n",
              o.seconds, s->frames.size());
  std::printf("%7s %12s %12s %7s %8s %8s %9s %10s\n", "clients", "echo rt/s", "verify/s", "ratio",
              "p50 us", "p99 us", "max us", "CPU us/v");
  for (int clients : {1, 2, 16}) {
    LoadSpec spec;
    spec.clients = clients;
    spec.frames = s->frames;
    spec.duration = std::chrono::seconds(o.seconds);
    spec.socket = echo_socket.string();
    spec.check = echoed;
    const LoadResult e = run_load(spec);
    spec.socket = s->verify_socket();
    spec.check = accepted;
    const double cpu0 = process_cpu_seconds(s->pid);
    const LoadResult v = run_load(spec);
    const double cpu1 = process_cpu_seconds(s->pid);
    const double cpu_us =
        v.requests > 0 ? (cpu1 - cpu0) / static_cast<double>(v.requests) * 1e6 : 0;
    std::printf("%7d %12.0f %12.0f %6.0f%% %8.0f %8.0f %9.0f %10.1f%s%s\n", clients, e.rate(),
                v.rate(), e.rate() > 0 ? 100 * v.rate() / e.rate() : 0.0, v.percentile_us(0.5),
                v.percentile_us(0.99), v.max_us(), cpu_us, failure_note(e).c_str(),
                failure_note(v).c_str());
  }
  std::printf("target: ratio >= 50%% at each concurrency\n");
  echo.stop(SIGTERM);
}

// ---- cpu ----

// CPU seconds (this thread) per call of `check`, over `n` calls after 3 warm-up calls.
template <class F>
double cpu_per_check(int n, F&& check) {
  for (int i = 0; i < 3; ++i) check();
  const double start = thread_cpu_seconds();
  for (int i = 0; i < n; ++i) check();
  return (thread_cpu_seconds() - start) / n;
}

// touchpassd's CPU time per verify (2 clients, `o.seconds`) against the CPU time of one bcrypt
// and one Argon2id check (`o.checks` of each).
void cpu(const Options& o) {
  std::printf("\n== CPU per check: touchpassd verify vs bcrypt and Argon2id ==\n");
  auto s = start_setup("failure_delay_ms = 0\n");
  if (!s) return;
  LoadSpec spec;
  spec.socket = s->verify_socket();
  spec.clients = 2;
  spec.frames = s->frames;
  spec.duration = std::chrono::seconds(o.seconds);
  const double cpu0 = process_cpu_seconds(s->pid);
  const LoadResult v = run_load(spec);
  const double cpu1 = process_cpu_seconds(s->pid);
  if (v.requests == 0) {
    std::printf("no verify succeeded%s\n", failure_note(v).c_str());
    return;
  }
  const double verify = (cpu1 - cpu0) / static_cast<double>(v.requests);
  if (verify <= 0) {
    std::printf("touchpassd used too little CPU to measure; run longer (--seconds)\n");
    return;
  }

  const std::string& password = s->passwords.front();
  auto data = std::make_unique<crypt_data>();
  const char* made = crypt_r(password.c_str(), "$2b$10$abcdefghijklmnopqrstuv", data.get());
  const std::string bcrypt_hash = made ? made : "";
  double bcrypt = -1;
  if (bcrypt_hash.rfind("$2b$10$", 0) == 0) {
    bool all_match = true;
    bcrypt = cpu_per_check(o.checks, [&] {
      const char* h = crypt_r(password.c_str(), bcrypt_hash.c_str(), data.get());
      all_match = all_match && h != nullptr && bcrypt_hash == h;
    });
    if (!all_match) bcrypt = -1;
  }
  char argon_hash[128];
  const char salt[] = "touchpass-bench!";
  double argon = -1;
  if (argon2id_hash_encoded(2, 19 * 1024, 1, password.data(), password.size(), salt,
                            sizeof salt - 1, 32, argon_hash, sizeof argon_hash) == ARGON2_OK) {
    bool all_match = true;
    argon = cpu_per_check(o.checks, [&] {
      all_match =
          all_match && argon2id_verify(argon_hash, password.data(), password.size()) == ARGON2_OK;
    });
    if (!all_match) argon = -1;
  }
  std::printf("touchpassd: %ld verifies over %d s with 2 clients (utime+stime of the daemon)\n",
              v.requests, o.seconds);
  std::printf("bcrypt and Argon2id: CPU time of %d checks after 3 warm-ups, in this process\n",
              o.checks);
  std::printf("%-28s %14s %14s %10s\n", "", "CPU per check", "x verify", "target");
  std::printf("%-28s %11.1f us %14s %10s\n", "touchpassd verify", verify * 1e6, "1", "");
  const auto row = [&](const char* name, double t, const char* target) {
    if (t < 0) {
      std::printf("%-28s %14s\n", name, "unavailable");
    } else {
      std::printf("%-28s %11.1f ms %13.0fx %10s\n", name, t * 1e3, t / verify, target);
    }
  };
  row("bcrypt cost 10", bcrypt, ">= 1000x");
  row("Argon2id m=19MiB t=2 p=1", argon, ">= 500x");
}

// ---- memory ----

// touchpassd's RssAnon idle after start, after set-up, and after `o.verifies` verifies by 16
// closed-loop clients.
void memory(const Options& o) {
  std::printf("\n== Memory: touchpassd RssAnon ==\n");
  auto s = start_setup("failure_delay_ms = 0\n");
  if (!s) return;
  const long after_setup = status_kb(s->pid, "RssAnon");
  LoadSpec spec;
  spec.socket = s->verify_socket();
  spec.clients = 16;
  spec.frames = s->frames;
  spec.max_requests = o.verifies;
  spec.duration = 3600s;  // bound only: the run ends after the verifies
  const LoadResult v = run_load(spec);
  const long after = status_kb(s->pid, "RssAnon");
  std::printf("%-44s %10ld kB\n", "idle after start", s->rss_after_start_kb);
  std::printf("%-44s %10ld kB\n", "after enroll + 20 issues", after_setup);
  const std::string label = "after " + std::to_string(v.requests) + " verifies (16 clients)";
  std::printf("%-44s %10ld kB   (+%ld kB over idle; %.0f verifies/s)%s\n", label.c_str(), after,
              after - s->rss_after_start_kb, v.rate(), failure_note(v).c_str());
}

// ---- grants ----

// The verify latencies of one run with `grants` grants in the store.
struct GrantRun {
  long grants = 0;
  LoadResult result;
};

// A fresh daemon whose store holds `grants` grants, verified by 4 paced clients (1000/s in all)
// for max(o.seconds, 12) s; prints the run's row. nullopt if the set-up failed.
std::optional<GrantRun> grant_run(const Options& o, long grants) {
  auto s = start_setup("failure_delay_ms = 0\n", grants);
  if (!s) return std::nullopt;
  LoadSpec spec;
  spec.socket = s->verify_socket();
  spec.clients = 4;
  spec.rate_per_client = 250;
  spec.frames = s->frames;
  spec.duration = std::chrono::seconds(std::max(o.seconds, 12));
  GrantRun run{grants, run_load(spec)};
  std::printf("%10ld %8.1f %10.1f %10.0f %8.0f %8.0f %9.0f %8ld%s\n", grants, s->fill_seconds,
              static_cast<double>(store_bytes(s->deployment->store())) / 1e6, run.result.rate(),
              run.result.percentile_us(0.5), run.result.percentile_us(0.99), run.result.max_us(),
              run.result.slower_than(10ms), failure_note(run.result).c_str());
  return run;
}

// One grant run per store size in `o.grants`; with two, the ratio of their p99s.
void grants(const Options& o) {
  std::printf("\n== Verify latency by store size ==\n");
  std::printf(
      "%d s per run, 4 clients x 250 verifies/s, persistent connections, %d passwords cycled "
      "(last_used is flushed every 5 s)\n",
      std::max(o.seconds, 12), kPasswords);
  std::printf("%10s %8s %10s %10s %8s %8s %9s %8s\n", "grants", "fill s", "store MB", "verify/s",
              "p50 us", "p99 us", "max us", ">10 ms");
  std::vector<GrantRun> runs;
  for (long n : o.grants) {
    if (auto r = grant_run(o, n)) runs.push_back(std::move(*r));
  }
  if (runs.size() == 2 && runs[0].result.percentile_us(0.99) > 0) {
    std::printf("p99 at %ld / p99 at %ld: %.2fx   (target <= 1.5x)\n", runs[1].grants,
                runs[0].grants,
                runs[1].result.percentile_us(0.99) / runs[0].result.percentile_us(0.99));
  }
  std::printf("target: no verify over 10 ms (verifies must not wait for the usage flush)\n");
}

// ---- attacks ----

// The service under attack: 4 root clients, 50 verifies/s each, a new connection per verify
// (as pam_touchpass), from kServiceRemote with correct passwords.
LoadSpec service_spec(const Setup& s, Clock::duration duration) {
  LoadSpec spec;
  spec.socket = s.verify_socket();
  spec.clients = 4;
  spec.rate_per_client = 50;
  spec.connect_each = true;
  spec.frames = s.frames;
  spec.duration = duration;
  return spec;
}

// One row of the attack table: whether every service verify under attack succeeded, the
// service's latency before (`idle`) and under the attack, whether the daemon survived, and what
// the attacker did.
void print_attack_row(const char* name, const std::string& attacker, const LoadResult& idle,
                      const LoadResult& attacked, bool daemon_alive) {
  const long sent = attacked.requests + attacked.failures;
  const std::string ok = yes_no(attacked.failures == 0 && attacked.requests > 0) + " (" +
                         std::to_string(attacked.requests) + "/" + std::to_string(sent) + ")";
  const double p99_idle = idle.percentile_us(0.99);
  const double p99 = attacked.percentile_us(0.99);
  // No successful verify under attack: no latency to compare.
  const bool any = attacked.requests > 0;
  const std::string p50_text = any ? std::to_string(std::lround(attacked.percentile_us(0.5))) : "-";
  const std::string p99_text = any ? std::to_string(std::lround(p99)) : "-";
  char ratio[32] = "-";
  if (any && p99_idle > 0) std::snprintf(ratio, sizeof ratio, "%.2fx", p99 / p99_idle);
  std::printf("%-15s %-17s %8.0f %8.0f %8s %8s %7s %6s  %s\n", name, ok.c_str(),
              idle.percentile_us(0.5), p99_idle, p50_text.c_str(), p99_text.c_str(), ratio,
              yes_no(daemon_alive).c_str(), attacker.c_str());
  if (attacked.failures > 0) {
    std::printf("%-15s   service failures: %ld (%ld could not connect), first: %s\n", "",
                attacked.failures, attacked.connect_failures, attacked.first_error.c_str());
  }
  if (idle.failures > 0) {
    std::printf("%-15s   failures before the attack: %ld, first: %s\n", "", idle.failures,
                idle.first_error.c_str());
  }
}

// A hog, slowloris or CPU-burn run on a fresh daemon with the default configuration; the
// attacker runs at niceness `nice`.
// With `at_bare_refuser` the attacker aims at touchpass-echo-server --refuse instead of the
// daemon: what the same attack costs the service when each connection costs the least it can.
void connection_attack(const Options& o, AttackKind kind, const char* label, int nice,
                       const std::string& cgroup_procs = "", bool at_bare_refuser = false) {
  auto s = start_setup("");
  if (!s) return;
  std::string target = s->socket();
  std::optional<Process> refuser;
  if (at_bare_refuser) {
    const fs::path path = s->deployment->dir() / "refuser.sock";
    refuser.emplace(Process::start({TOUCHPASS_ECHO_SERVER, "--refuse", path.string()},
                                   s->deployment->dir() / "refuser.log"));
    if (!touchpass::testing::wait_for_socket(path, 5000ms)) {
      std::fprintf(stderr, "touchpass-echo-server --refuse did not start\n");
      return;
    }
    target = path.string();
  }
  const auto window = std::chrono::seconds(std::max(o.seconds, 10));
  const LoadResult idle = run_load(service_spec(*s, window));
  // No other thread runs now: the attacker may be forked.
  Attacker attacker = Attacker::start(kind, target, 5000, window + 30s, nice, cgroup_procs);
  const bool ready = attacker.wait_ready(10s);
  std::this_thread::sleep_for(2s);  // let the daemon take in what it will
  const LoadResult attacked = run_load(service_spec(*s, window));
  const AttackerStats a = attacker.stop();
  std::string what;
  if (!a.reported || !ready) {
    what = "attacker failed: " + a.error;
  } else if (kind == AttackKind::cpu_burn) {
    what = "spinning on every core, never connecting";
  } else {
    what = std::to_string(a.max_held) + " held >= 1 s (max " + std::to_string(a.max_open) +
           " open), " + std::to_string(a.connects) + " connects, " +
           std::to_string(a.closed_by_daemon) + " closed by the daemon";
    if (kind == AttackKind::slowloris) what += ", " + std::to_string(a.bytes_sent) + " bytes";
  }
  if (nice != 0) what += "; attacker at nice " + std::to_string(nice);
  if (!cgroup_procs.empty()) what += "; attacker in the user slice";
  if (at_bare_refuser) what += "; at a bare refuser, not touchpassd";
  print_attack_row(label, what, idle, attacked, s->deployment->daemon_running());
  if (refuser) refuser->stop(SIGTERM);
}

// The service during `o.flood_seconds` of wrong passwords from many addresses (attacks.h), on a
// fresh daemon with `config` and `clients` flooding connections; and how much the store grew.
// With failure_delay_ms = 0 the flood gets as many refusals as the CPU allows (the worst case
// for the store); with the shipped delays it meets the defence a deployment has.
void flood_attack(const Options& o, const char* label, const char* config, int clients) {
  auto s = start_setup(config);
  if (!s) return;
  const auto window = std::chrono::seconds(std::max(o.seconds, 10));
  const LoadResult idle = run_load(service_spec(*s, window));
  const std::uintmax_t before = store_bytes(s->deployment->store());
  FloodSpec flood;
  flood.socket = s->verify_socket();
  flood.clients = clients;
  flood.duration = std::chrono::seconds(o.flood_seconds);
  FloodResult f;
  std::thread flooder([&] { f = run_flood(flood); });
  const LoadResult attacked = run_load(service_spec(*s, std::chrono::seconds(o.flood_seconds)));
  flooder.join();
  const std::uintmax_t after = store_bytes(s->deployment->store());
  const std::string what =
      std::to_string(flood.clients) + " clients, " + std::to_string(f.requests) + " answered no (" +
      std::to_string(
          static_cast<long>(f.seconds > 0 ? static_cast<double>(f.requests) / f.seconds : 0)) +
      "/s), " + std::to_string(f.accepted) + " accepted, " + std::to_string(f.errors) + " errors";
  print_attack_row(label, what, idle, attacked, s->deployment->daemon_running());
  if (!f.first_error.empty()) {
    std::printf("%-15s   flood: first error: %s\n", "", f.first_error.c_str());
  }
  std::printf(
      "store (.db + -wal) during the flood: %.2f MB -> %.2f MB: %+.2f MB   (target < 1 MB)\n",
      static_cast<double>(before) / 1e6, static_cast<double>(after) / 1e6,
      (static_cast<double>(after) - static_cast<double>(before)) / 1e6);
  std::printf("%s configuration: %s", label, config);
}

// The three attacks, each on its own fresh daemon.
void attacks(const Options& o) {
  std::printf("\n== Attacks: a steady service while the daemon is attacked ==\n");
  std::printf(
      "service: 4 root clients x 50 verifies/s, a new connection per verify, from %s; idle: "
      "%d s before the attack on the same daemon\n",
      kServiceRemote, std::max(o.seconds, 10));
  std::printf(
      "hog, slowloris: user nobody, up to 5000 connections, %d s; flood: %d s, random wrong "
      "passwords for 64 other users, each from a new IPv4/IPv6 address\n",
      std::max(o.seconds, 10), o.flood_seconds);
  std::printf("%-15s %-17s %8s %8s %8s %8s %7s %6s  %s\n", "attack", "service all ok", "idle p50",
              "idle p99", "p50", "p99", "p99 x", "daemon", "attacker");
  std::printf("%-15s %-17s %8s %8s %8s %8s %7s %6s\n", "", "", "us", "us", "us", "us", "", "alive");
  connection_attack(o, AttackKind::hog, "connection hog", 0);
  connection_attack(o, AttackKind::slowloris, "slowloris", 0);
  flood_attack(o, "flood, no delay", "failure_delay_ms = 0\nlockout_failures = 10\n", 8);
  flood_attack(o, "flood, shipped", "lockout_failures = 10\n", 64);
  std::printf("target: every service verify succeeds; p99 under attack < 2x idle p99\n");
  // What part of the hog's and slowloris's effect is the daemon's: the same attackers whose own
  // CPU use yields to everyone else (nice 19), and the same user burning CPU without touching
  // touchpass at all (the share of the machine no daemon can keep from a local user).
  std::printf(
      "\nreference: the daemon's cost of the attacks apart from the attacker's own CPU use\n");
  connection_attack(o, AttackKind::hog, "hog, nice 19", 19);
  connection_attack(o, AttackKind::slowloris, "slowloris, n 19", 19);
  connection_attack(o, AttackKind::cpu_burn, "cpu burn only", 0);
  // The same hog aimed at a process that closes each connection at once: the part of the hog's
  // effect that is the kernel's and the attacker's, whatever the daemon does.
  connection_attack(o, AttackKind::hog, "hog, bare", 0, "", true);
}

// The connection attacks again, with the split systemd makes once a unit sets CPUWeight=
// (touchpassd.service does): system services and users' sessions as sibling cgroups of equal
// weight.
void sliced_attacks(const Options& o) {
  std::printf(
      "\n== Attacks with system.slice and user.slice of equal CPU weight (cpu_slices.h) ==\n");
  std::string error;
  auto slices = CpuSlices::create(error);
  if (!slices) {
    std::printf("not measured: %s\n", error.c_str());
    return;
  }
  connection_attack(o, AttackKind::hog, "hog, sliced", 0, slices->user_procs());
  connection_attack(o, AttackKind::slowloris, "slowloris, sl.", 0, slices->user_procs());
  connection_attack(o, AttackKind::cpu_burn, "cpu burn, sl.", 0, slices->user_procs());
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse_args(argc, argv, o)) return 2;
  if (::geteuid() != 0) {
    std::fprintf(stderr, "touchpass-verify-bench runs as root (the attackers become nobody)\n");
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("touchpass-verify-bench: %u cores\n", std::thread::hardware_concurrency());
  if (o.only.count("throughput")) throughput(o);
  if (o.only.count("cpu")) cpu(o);
  if (o.only.count("memory")) memory(o);
  if (o.only.count("grants")) grants(o);
  if (o.only.count("attacks")) attacks(o);
  if (o.only.count("slices")) sliced_attacks(o);
  return 0;
}
