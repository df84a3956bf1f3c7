// touchpass-verify-bench's sections on a steady daemon: throughput against a bare echo server,
// CPU per verify against bcrypt and Argon2id, memory, and latency by store size.
#include <argon2.h>
#include <crypt.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>

#include "verify_bench.h"

namespace touchpass::bench::verify {

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

}  // namespace touchpass::bench::verify
