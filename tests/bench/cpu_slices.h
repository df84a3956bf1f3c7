// The CPU split systemd makes between system services and users' sessions: two sibling cgroups
// of equal weight, "system" (the bench, its touchpassd and its service clients, as
// system.slice) and "user" (the attacker, as user.slice). systemd enables this split when a
// unit sets CPUWeight= (touchpassd.service does); the bench builds it by hand on the cgroup
// file system (v1 "cpu" or v2 with the cpu controller) to measure what it gives.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>

namespace touchpass::bench {

class CpuSlices {
 public:
  // Makes touchpass-bench-PID/{system,user} under the cgroup root and moves this process (all
  // its threads; later children follow) into system. nullptr with `error` set when the cgroup
  // file system is missing, read-only, or has no CPU controller. Call with no other thread.
  static std::unique_ptr<CpuSlices> create(std::string& error);
  // Moves this process back where it was and removes the groups.
  ~CpuSlices();
  CpuSlices(const CpuSlices&) = delete;
  CpuSlices& operator=(const CpuSlices&) = delete;

  // The file a process writes its pid to, to move itself into the user slice.
  std::string user_procs() const { return (base_ / "user" / "cgroup.procs").string(); }

 private:
  CpuSlices(std::filesystem::path base, std::filesystem::path home)
      : base_(std::move(base)), home_(std::move(home)) {}
  std::filesystem::path base_;
  std::filesystem::path home_;  // the group this process was in
};

// Writes `pid` into the cgroup.procs file `procs`; false on failure.
bool move_to_cgroup(const std::string& procs, pid_t pid);

}  // namespace touchpass::bench
