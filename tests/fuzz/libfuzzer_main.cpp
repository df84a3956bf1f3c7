// The libFuzzer side of every fuzz target (TOUCHPASS_FUZZ=ON). libFuzzer calls
// LLVMFuzzerInitialize before it parses its flags, so the flags can be adjusted here:
// - -max_len=fuzz_max_len() is added unless the command line sets -max_len, so that every run
//   explores inputs up to the target's real limit (libFuzzer's default is 4096 bytes);
// - -touchpass_seeds=DIR writes fuzz_seeds() into DIR (one file each, named after a hash of its
//   bytes) and exits, so a run can start from the seeds: `fuzz_X -touchpass_seeds=corpus/X`,
//   then `fuzz_X corpus/X`.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz.h"

namespace {

constexpr std::string_view kSeedsFlag = "-touchpass_seeds=";

// FNV-1a, 64 bits: a stable file name for a seed.
std::string seed_name(const std::string& bytes) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : bytes) {
    hash ^= static_cast<std::uint8_t>(c);
    hash *= 0x100000001b3ULL;
  }
  char name[24];
  std::snprintf(name, sizeof name, "seed-%016llx", static_cast<unsigned long long>(hash));
  return name;
}

// Writes the seeds into `dir` (created if needed). Returns the process exit status.
int write_seeds(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::fprintf(stderr, "cannot create %s: %s\n", dir.c_str(), ec.message().c_str());
    return 1;
  }
  const std::vector<std::string> seeds = fuzz_seeds();
  for (const std::string& seed : seeds) {
    std::ofstream out(dir / seed_name(seed), std::ios::binary | std::ios::trunc);
    out.write(seed.data(), static_cast<std::streamsize>(seed.size()));
    if (!out) {
      std::fprintf(stderr, "cannot write a seed into %s\n", dir.c_str());
      return 1;
    }
  }
  std::printf("%zu seeds written to %s\n", seeds.size(), dir.c_str());
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  static std::vector<char*> args;
  static std::string max_len_flag;
  bool has_max_len = false;
  for (int i = 0; i < *argc; ++i) {
    const std::string_view arg = (*argv)[i];
    if (arg.starts_with(kSeedsFlag)) std::exit(write_seeds(arg.substr(kSeedsFlag.size())));
    if (arg.starts_with("-max_len=")) has_max_len = true;
    args.push_back((*argv)[i]);
  }
  if (!has_max_len && !args.empty()) {
    max_len_flag = "-max_len=" + std::to_string(fuzz_max_len());
    args.insert(args.begin() + 1, max_len_flag.data());
  }
  *argc = static_cast<int>(args.size());
  args.push_back(nullptr);
  *argv = args.data();
  return 0;
}
