// The parts of touchpass-verify-bench (verify_bench.cpp) its sections share: the options, the
// set-up of a daemon with issued passwords, and the table helpers. The sections are
// verify_sections.cpp (throughput, cpu, memory, grants) and verify_attack_sections.cpp.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "bench_clients.h"
#include "daemon/daemon_harness.h"

namespace touchpass::bench::verify {

namespace fs = std::filesystem;
using touchpass::testing::Client;
using touchpass::testing::Deployment;
using touchpass::testing::Process;
using touchpass::testing::req;

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
std::optional<Setup> start_setup(const std::string& extra_config, long grants = 0);

// The size of the store: its .db and -wal files, in bytes.
std::uintmax_t store_bytes(const fs::path& db);

// A short note of a run's failures ("" if none).
std::string failure_note(const LoadResult& r);

// "yes", or a "NO" that stands out in a table.
std::string yes_no(bool b);

// The sections, each printing its table (and its target) on standard output.
void throughput(const Options& o);
void cpu(const Options& o);
void memory(const Options& o);
void grants(const Options& o);
void attacks(const Options& o);
void sliced_attacks(const Options& o);

}  // namespace touchpass::bench::verify
