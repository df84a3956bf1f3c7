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
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "verify_bench.h"

namespace {

using namespace touchpass::bench::verify;

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
