// The memory behind SecretBytes: a process-wide pool of locked memory, so a secret costs a
// free-list pop and push under a mutex instead of a mapping of its own (mmap, mlock, madvise,
// then munlock and munmap — whose TLB shootdowns once took 45% of the daemon's CPU).
//
// A secret of up to kLargestClass bytes gets a chunk of the smallest size class that holds it.
// A class's chunks are carved from its slabs (16 KiB, 64 KiB for the largest class), mapped on
// demand, locked against swapping (best effort, as RLIMIT_MEMLOCK allows) and excluded from
// core dumps (MADV_DONTDUMP). A released chunk is wiped whole (OPENSSL_cleanse) and is reused
// before any new memory is mapped, so the pool only grows to the most secrets ever live at
// once; a slab left wholly free goes back to the system, except one kept per class so steady
// traffic never maps or unmaps. Larger secrets get a dedicated mapping, released with them.
//
// Every free chunk is all zeros but for the free list's link, so a chunk handed out is
// zero-filled. Thread-safe (one mutex; a fork waits for it). The pool's state is
// constant-initialized and never destroyed, so secrets may be created and released during
// static initialization and exit. Internal to SecretBytes; its tests and benchmark use it
// directly.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace touchpass::secret_pool {

inline constexpr std::array<std::size_t, 7> kClassSizes = {32, 64, 128, 256, 512, 1024, 4096};
inline constexpr std::size_t kLargestClass = kClassSizes.back();

// Memory for one secret: `capacity` bytes at `data` (nullptr and 0 for an empty secret).
struct Block {
  std::uint8_t* data = nullptr;
  std::size_t capacity = 0;
};

// The bytes reserved for a secret of `size` bytes: the smallest size class that holds it, whole
// pages above kLargestClass, 0 for 0.
std::size_t capacity_for(std::size_t size);

// Zero-filled, locked (best effort), dump-excluded memory for a secret of `size` bytes: a
// pooled chunk up to kLargestClass, a dedicated mapping above; an empty Block for 0. Throws
// std::bad_alloc when the system has no memory to give.
Block allocate(std::size_t size);

// Wipes the whole of `block` and gives it back: a chunk to its free list, a dedicated mapping
// to the system. Precondition: `block` came from allocate() and is released once. An empty
// Block is ignored.
void release(Block block) noexcept;

// The path used for secrets above kLargestClass (and, before the pool, for every secret): a
// zero-filled mapping of whole pages for `size` > 0 bytes, locked (best effort) and
// dump-excluded. Throws std::bad_alloc. Exposed for the benchmark.
Block map_dedicated(std::size_t size);

// Wipes and unmaps a Block from map_dedicated(). Precondition: released once.
void unmap_dedicated(Block block) noexcept;

// The pool's size, for tests: slabs mapped now, slabs ever mapped, and chunks handed out and
// not released.
struct Stats {
  std::size_t slabs = 0;
  std::size_t slabs_mapped = 0;
  std::size_t chunks_in_use = 0;
};
Stats stats();

}  // namespace touchpass::secret_pool
