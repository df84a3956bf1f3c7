#include "cpu_slices.h"

#include <unistd.h>

#include <fstream>
#include <system_error>

namespace touchpass::bench {

namespace {

namespace fs = std::filesystem;

bool write_text(const fs::path& file, const std::string& text) {
  std::ofstream out(file);
  out << text;
  out.flush();
  return static_cast<bool>(out);
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  std::string text, line;
  while (std::getline(in, line)) text += line + "\n";
  return text;
}

}  // namespace

bool move_to_cgroup(const std::string& procs, pid_t pid) {
  return write_text(procs, std::to_string(pid));
}

std::unique_ptr<CpuSlices> CpuSlices::create(std::string& error) {
  fs::path root;
  if (fs::exists("/sys/fs/cgroup/cpu/cpu.shares")) {
    root = "/sys/fs/cgroup/cpu";  // v1
  } else if (read_text("/sys/fs/cgroup/cgroup.controllers").find("cpu") != std::string::npos) {
    root = "/sys/fs/cgroup";  // v2: the controller must be on for the root's children
    if (!write_text(root / "cgroup.subtree_control", "+cpu")) {
      error = "cannot enable the cpu controller in /sys/fs/cgroup";
      return nullptr;
    }
  } else {
    error = "no cgroup file system with a CPU controller";
    return nullptr;
  }
  const fs::path base = root / ("touchpass-bench-" + std::to_string(::getpid()));
  std::error_code ec;
  fs::create_directory(base, ec);
  if (ec) {
    error = "cannot create " + base.string() + ": " + ec.message();
    return nullptr;
  }
  if (root == "/sys/fs/cgroup") write_text(base / "cgroup.subtree_control", "+cpu");
  fs::create_directory(base / "system", ec);
  if (!ec) fs::create_directory(base / "user", ec);
  std::unique_ptr<CpuSlices> slices(new CpuSlices(base, root));
  if (ec || !move_to_cgroup((base / "system" / "cgroup.procs").string(), ::getpid())) {
    error = "cannot move the bench into " + (base / "system").string();
    return nullptr;
  }
  return slices;
}

CpuSlices::~CpuSlices() {
  move_to_cgroup((home_ / "cgroup.procs").string(), ::getpid());
  // Groups with processes left (a daemon still stopping) cannot go yet; retry briefly.
  for (int i = 0; i < 50; ++i) {
    std::error_code ec;
    fs::remove(base_ / "user", ec);
    fs::remove(base_ / "system", ec);
    if (fs::remove(base_, ec) || !fs::exists(base_)) return;
    ::usleep(100000);
  }
}

}  // namespace touchpass::bench
