// touchpass-verify-bench's attack sections: a steady service while the daemon is hogged,
// slowlorised or flooded with wrong passwords, with the reference runs that tell the daemon's
// share of the effect, and the same in CPU slices.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <optional>
#include <thread>

#include "attacks.h"
#include "cpu_slices.h"
#include "verify_bench.h"

namespace touchpass::bench::verify {

namespace {

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

}  // namespace

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

}  // namespace touchpass::bench::verify
