// The pool behind SecretBytes (core/secret_pool.h): chunks are handed out zero-filled even when
// they held a secret before, are wiped whole on release, never overlap while live, survive many
// threads at once, are reused so churn does not grow the pool, and sit in memory excluded from
// core dumps.
#include "core/secret_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/secret.h"

namespace touchpass {
namespace {

using secret_pool::kClassSizes;

// Destroyed during exit, after main returns: the pool must still be there to take it back.
SecretBytes destroyed_at_exit = SecretBytes::copy_of(std::string_view("released during exit"));

bool all_zero(const SecretBytes& s) {
  return std::all_of(s.bytes().begin(), s.bytes().end(), [](std::uint8_t b) { return b == 0; });
}

TEST(SecretPool, ChunksAreHandedOutZeroFilledEvenAfterTheyHeldASecret) {
  for (std::size_t size : kClassSizes) {
    SCOPED_TRACE(size);
    const std::uint8_t* used = nullptr;
    {
      SecretBytes secret(size);
      ASSERT_TRUE(all_zero(secret));
      std::fill(secret.bytes().begin(), secret.bytes().end(), std::uint8_t{0xA5});
      used = secret.data();
    }
    SecretBytes again(size);
    ASSERT_EQ(again.data(), used) << "the free list hands back the chunk released last";
    EXPECT_TRUE(all_zero(again));
  }
}

// A secret smaller than its class is wiped over the whole class, and so is a truncated one:
// the next secret of the class, which gets the same chunk, sees only zeros.
TEST(SecretPool, TheWholeChunkIsWipedOnRelease) {
  for (std::size_t capacity : kClassSizes) {
    SCOPED_TRACE(capacity);
    const std::uint8_t* used = nullptr;
    {
      SecretBytes secret(capacity / 2 + 1);
      EXPECT_EQ(secret_pool::capacity_for(secret.size()), capacity);
      std::fill(secret.bytes().begin(), secret.bytes().end(), std::uint8_t{0x5A});
      used = secret.data();
    }
    SecretBytes whole(capacity);
    ASSERT_EQ(whole.data(), used);
    EXPECT_TRUE(all_zero(whole));
    std::fill(whole.bytes().begin(), whole.bytes().end(), std::uint8_t{0x3C});
    whole.truncate(1);
    whole = SecretBytes();
    SecretBytes after_truncate(capacity);
    ASSERT_EQ(after_truncate.data(), used);
    EXPECT_TRUE(all_zero(after_truncate));
  }
}

TEST(SecretPool, AnEmptySecretAllocatesNothing) {
  const auto before = secret_pool::stats();
  SecretBytes empty(0);
  EXPECT_EQ(empty.data(), nullptr);
  EXPECT_EQ(secret_pool::stats().chunks_in_use, before.chunks_in_use);
  EXPECT_EQ(secret_pool::capacity_for(0), 0u);
}

TEST(SecretPool, SecretsAboveTheLargestClassGetTheirOwnZeroFilledPages) {
  const std::size_t size = secret_pool::kLargestClass + 1;
  const auto before = secret_pool::stats();
  SecretBytes big(size);
  EXPECT_TRUE(all_zero(big));
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(big.data()) % 4096, 0u);
  EXPECT_GE(secret_pool::capacity_for(size), size);
  EXPECT_EQ(secret_pool::stats().chunks_in_use, before.chunks_in_use);
}

TEST(SecretPool, LiveSecretsOfEveryClassNeverOverlap) {
  std::vector<std::size_t> sizes;
  for (std::size_t capacity : kClassSizes) {
    for (std::size_t size : {std::size_t{1}, capacity / 2 + 1, capacity}) {
      for (int i = 0; i < 40; ++i) sizes.push_back(size);
    }
  }
  sizes.push_back(secret_pool::kLargestClass + 1);
  sizes.push_back(200 * 1024);
  std::shuffle(sizes.begin(), sizes.end(), std::mt19937(7));

  std::vector<SecretBytes> live;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    live.emplace_back(sizes[i]);
    ASSERT_TRUE(all_zero(live.back()));
    std::fill(live.back().bytes().begin(), live.back().bytes().end(),
              static_cast<std::uint8_t>(i * 31 + 1));
  }
  for (std::size_t i = 0; i < live.size(); ++i) {
    const auto expected = static_cast<std::uint8_t>(i * 31 + 1);
    EXPECT_TRUE(std::all_of(live[i].bytes().begin(), live[i].bytes().end(),
                            [&](std::uint8_t b) { return b == expected; }))
        << "secret " << i << " of " << live[i].size() << " bytes was overwritten";
  }
  std::vector<std::pair<std::uintptr_t, std::uintptr_t>> ranges;  // [begin, end) of each block
  for (const SecretBytes& s : live) {
    const auto begin = reinterpret_cast<std::uintptr_t>(s.data());
    ranges.emplace_back(begin, begin + secret_pool::capacity_for(s.size()));
  }
  std::sort(ranges.begin(), ranges.end());
  for (std::size_t i = 1; i < ranges.size(); ++i) {
    EXPECT_LE(ranges[i - 1].second, ranges[i].first) << "blocks " << i - 1 << " and " << i;
  }
}

// The same churn again and again needs no more memory than the first time: freed chunks are
// reused (without reuse, every round would map hundreds of new slabs).
TEST(SecretPool, ChurnReusesFreedChunksSoThePoolStopsGrowing) {
  const auto before = secret_pool::stats();
  // Replaces random ones of 64 live secrets of random sizes; returns the most slabs seen.
  const auto churn = [] {
    std::mt19937 random(11);
    std::uniform_int_distribution<std::size_t> size(1, secret_pool::kLargestClass);
    std::vector<SecretBytes> live(64);
    std::size_t peak = 0;
    for (int i = 0; i < 20000; ++i) {
      live[random() % live.size()] = SecretBytes(size(random));
      peak = std::max(peak, secret_pool::stats().slabs);
    }
    return peak;
  };
  const std::size_t first = churn();
  for (int round = 0; round < 5; ++round) {
    EXPECT_LE(churn(), first + kClassSizes.size()) << "round " << round;
  }
  EXPECT_EQ(secret_pool::stats().chunks_in_use, before.chunks_in_use);
}

// The daemon's hot path: a few secrets created and released per request. Once warm, that
// never maps (or unmaps) memory, whatever the order of releases.
TEST(SecretPool, SteadyTrafficNeverMapsMemory) {
  const auto request = [](bool reverse) {
    SecretBytes reader(secret_pool::kLargestClass);
    SecretBytes password(24);
    SecretBytes key(64);
    if (reverse) std::swap(reader, key);
  };
  request(false);
  const auto warm = secret_pool::stats();
  for (int i = 0; i < 10000; ++i) request(i % 2 == 0);
  EXPECT_EQ(secret_pool::stats().slabs_mapped, warm.slabs_mapped);
  EXPECT_EQ(secret_pool::stats().slabs, warm.slabs);
}

// After a burst, the slabs it left wholly free go back to the system but one per class.
TEST(SecretPool, ABurstsMemoryIsGivenBackWhenItIsOver) {
  const auto before = secret_pool::stats();
  {
    std::vector<SecretBytes> burst;
    for (int i = 0; i < 300; ++i) burst.emplace_back(secret_pool::kLargestClass);
    EXPECT_GE(secret_pool::stats().slabs, before.slabs + 300 / 16);
  }
  EXPECT_LE(secret_pool::stats().slabs, before.slabs + 1);
  SecretBytes again(secret_pool::kLargestClass);  // the slab kept serves at once
  EXPECT_LE(secret_pool::stats().slabs, before.slabs + 1);
}

// Threads allocate, fill, check and free secrets of every size at once; each secret must be
// zero-filled when handed out and keep its owner's bytes until released.
TEST(SecretPool, ManyThreadsAllocateAndFreeConcurrently) {
  const auto before = secret_pool::stats();
  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &failures] {
      std::mt19937 random(static_cast<std::mt19937::result_type>(t));
      std::uniform_int_distribution<std::size_t> size(1, secret_pool::kLargestClass + 100);
      std::vector<SecretBytes> live(16);
      std::vector<std::uint8_t> marks(live.size());
      for (int i = 0; i < 20000; ++i) {
        const std::size_t slot = random() % live.size();
        const std::uint8_t mark = marks[slot];
        if (!std::all_of(live[slot].bytes().begin(), live[slot].bytes().end(),
                         [mark](std::uint8_t b) { return b == mark; })) {
          ++failures[static_cast<std::size_t>(t)];
        }
        live[slot] = SecretBytes(size(random));
        if (!all_zero(live[slot])) ++failures[static_cast<std::size_t>(t)];
        marks[slot] = static_cast<std::uint8_t>(t * 16 + static_cast<int>(slot) + 1);
        std::fill(live[slot].bytes().begin(), live[slot].bytes().end(), marks[slot]);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[static_cast<std::size_t>(t)], 0) << t;
  EXPECT_EQ(secret_pool::stats().chunks_in_use, before.chunks_in_use);
}

// The VmFlags of the mapping that holds `address`, from /proc/self/smaps ("" when not found).
std::string vm_flags_of(const void* address) {
  const auto target = reinterpret_cast<std::uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    std::uintptr_t begin = 0;
    std::uintptr_t end = 0;
    char dash = 0;
    std::istringstream fields(line);
    if (fields >> std::hex >> begin >> dash >> end && dash == '-') {
      inside = begin <= target && target < end;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line + " ";
    }
  }
  return "";
}

TEST(SecretPool, PooledAndDedicatedMemoryIsExcludedFromCoreDumps) {
  SecretBytes pooled(32);
  SecretBytes dedicated(secret_pool::kLargestClass + 1);
  for (const SecretBytes* s : {&pooled, &dedicated}) {
    const std::string flags = vm_flags_of(s->data());
    ASSERT_FALSE(flags.empty()) << "no mapping found in /proc/self/smaps";
    EXPECT_NE(flags.find(" dd "), std::string::npos) << flags;
  }
}

}  // namespace
}  // namespace touchpass
