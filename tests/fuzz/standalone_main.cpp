// Runs a fuzz target without libFuzzer: every seed, then mutations of them (bit flips, byte
// changes, insertions, deletions, truncation, splices) from a fixed random seed, so that a
// failure is reproducible. Inputs are cut to the target's fuzz_max_len(), as libFuzzer's are.
// Usage: fuzz_X [ITERATIONS] [FILE...]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include "fuzz.h"

namespace {

std::string mutate(std::string input, const std::vector<std::string>& pool, std::mt19937& rng) {
  const auto pick = [&](std::size_t n) {
    return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  const int rounds = 1 + static_cast<int>(pick(4));
  for (int r = 0; r < rounds; ++r) {
    switch (pick(7)) {
      case 0:  // flip a bit
        if (!input.empty()) input[pick(input.size())] ^= static_cast<char>(1 << pick(8));
        break;
      case 1:  // an interesting byte
        if (!input.empty()) {
          static const char kBytes[] = {0,    1,    0x17,       0x18,       0x1f,       0x3f,
                                        0x40, 0x7f, char(0x80), char(0x9f), char(0xbf), char(0xff)};
          input[pick(input.size())] = kBytes[pick(sizeof kBytes)];
        }
        break;
      case 2:  // insert random bytes
        input.insert(pick(input.size() + 1),
                     std::string(1 + pick(8), static_cast<char>(pick(256))));
        break;
      case 3:  // delete a range
        if (!input.empty()) {
          const std::size_t at = pick(input.size());
          input.erase(at, 1 + pick(input.size() - at));
        }
        break;
      case 4:  // truncate
        input.resize(pick(input.size() + 1));
        break;
      case 5:  // splice with another input
        if (!pool.empty()) {
          const std::string& other = pool[pick(pool.size())];
          input = input.substr(0, pick(input.size() + 1)) + other.substr(pick(other.size() + 1));
        }
        break;
      default:  // duplicate a range
        if (!input.empty()) {
          const std::size_t at = pick(input.size());
          input.insert(at, input.substr(at, 1 + pick(16)));
        }
        break;
    }
  }
  return input;
}

void run(const std::string& input) {
  const std::size_t size = std::min(input.size(), fuzz_max_len());
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), size);
}

}  // namespace

int main(int argc, char** argv) {
  const long iterations = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 5000;
  std::vector<std::string> pool = fuzz_seeds();
  for (int i = 2; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    pool.push_back(content.str());
  }
  pool.emplace_back();
  for (const auto& seed : pool) run(seed);
  std::mt19937 rng(20261124);
  for (long i = 0; i < iterations; ++i) {
    const std::string& base =
        pool[std::uniform_int_distribution<std::size_t>(0, pool.size() - 1)(rng)];
    std::string input = mutate(base, pool, rng);
    if (input.size() > fuzz_max_len()) input.resize(fuzz_max_len());
    run(input);
    if (pool.size() < 256 && i % 16 == 0) pool.push_back(std::move(input));
  }
  std::printf("%ld inputs: no crash\n", iterations + static_cast<long>(pool.size()));
  return 0;
}
