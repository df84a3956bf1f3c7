// touchpass-secret-bench: how many 32-byte secrets can be created and released per second, from
// the pool (SecretBytes today) and from a dedicated locked mapping each (the path every secret
// took before the pool: mmap, mlock, madvise, then wipe, munlock, munmap), on one thread and
// on four at once. Run by hand; the figures go into the notes.
//
//   touchpass-secret-bench [SECONDS_PER_RUN]   (default 1)
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <utility>
#include <vector>

#include "core/secret.h"
#include "core/secret_pool.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kSecretSize = 32;

// One create-use-release cycle through the pool.
void pooled_cycle() {
  touchpass::SecretBytes secret(kSecretSize);
  secret.data()[0] = 1;
}

// The same cycle through a dedicated mapping, as every SecretBytes did before the pool.
void mapped_cycle() {
  const touchpass::secret_pool::Block block = touchpass::secret_pool::map_dedicated(kSecretSize);
  block.data[0] = 1;
  touchpass::secret_pool::unmap_dedicated(block);
}

// Cycles per second over `threads` threads running `cycle` for `seconds`.
double cycles_per_second(void (*cycle)(), int threads, double seconds) {
  std::atomic<bool> stop{false};
  std::atomic<long> total{0};
  std::vector<std::thread> workers;
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      long n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        for (int i = 0; i < 256; ++i) cycle();
        n += 256;
      }
      total += n;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& worker : workers) worker.join();
  const std::chrono::duration<double> elapsed = Clock::now() - start;
  return static_cast<double>(total.load()) / elapsed.count();
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
  if (seconds <= 0) {
    std::fprintf(stderr, "usage: touchpass-secret-bench [SECONDS_PER_RUN]\n");
    return 2;
  }
  std::printf("%zu-byte secrets, create + release per second (%u CPUs)\n", kSecretSize,
              std::thread::hardware_concurrency());
  std::printf("%-28s %14s %14s\n", "", "1 thread", "4 threads");
  for (const auto& [name, cycle] : {std::pair{"pool (SecretBytes)", &pooled_cycle},
                                    std::pair{"dedicated mmap (old path)", &mapped_cycle}}) {
    const double one = cycles_per_second(cycle, 1, seconds);
    const double four = cycles_per_second(cycle, 4, seconds);
    std::printf("%-28s %14.0f %14.0f\n", name, one, four);
  }
  return 0;
}
