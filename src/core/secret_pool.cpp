#include "core/secret_pool.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <mutex>
#include <new>
#include <type_traits>

#if defined(__SANITIZE_ADDRESS__)
#define TOUCHPASS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TOUCHPASS_ASAN 1
#endif
#endif
#ifdef TOUCHPASS_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace touchpass::secret_pool {

namespace {

constexpr std::size_t kClassCount = kClassSizes.size();
// A free chunk holds the address of the next free chunk of its slab in its first bytes.
constexpr std::size_t kLinkSize = sizeof(std::uint8_t*);
static_assert(kClassSizes.front() >= kLinkSize);
static_assert(kClassSizes.front() % alignof(std::max_align_t) == 0);

// Under AddressSanitizer free chunks, the uncarved rest of a slab and the tail of a chunk beyond
// the secret's size are poisoned, so a use after release or an overrun is reported as it was
// when every secret had a mapping of its own.
void poison(const void* p, std::size_t n) {
#ifdef TOUCHPASS_ASAN
  ASAN_POISON_MEMORY_REGION(p, n);
#else
  (void)p;
  (void)n;
#endif
}

void unpoison(const void* p, std::size_t n) {
#ifdef TOUCHPASS_ASAN
  ASAN_UNPOISON_MEMORY_REGION(p, n);
#else
  (void)p;
  (void)n;
#endif
}

std::size_t page_size() {
  static const std::size_t size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return size;
}

std::size_t round_up(std::size_t n, std::size_t unit) {
  return (n + unit - 1) / unit * unit;
}

// Locks `bytes` at `p` against swapping and keeps them out of core dumps. Best effort: without
// CAP_IPC_LOCK and with a small RLIMIT_MEMLOCK, mlock may fail; the memory is still wiped and
// kept out of core dumps.
void protect(void* p, std::size_t bytes) {
  (void)::mlock(p, bytes);
  (void)::madvise(p, bytes, MADV_DONTDUMP);
}

std::size_t class_index(std::size_t size) {
  std::size_t i = 0;
  while (kClassSizes[i] < size) ++i;
  return i;
}

// The header at the start of every slab. A slab holds chunks of one class; it is aligned to its
// size, so a chunk finds its slab by rounding its address down.
struct Slab {
  Slab* prev = nullptr;  // in its class's list of slabs with room
  Slab* next = nullptr;
  std::uint8_t* free = nullptr;    // the first released chunk (each links to the next)
  std::uint8_t* unused = nullptr;  // the first chunk never handed out
  std::uint8_t* end = nullptr;
  std::size_t live = 0;  // chunks handed out
  bool listed = false;   // in the list of slabs with room (it is not full)
};

// Slabs of 16 KiB (at least 16 chunks): a class used by a handful of secrets costs 16 KiB of
// locked memory.
constexpr std::size_t slab_size(std::size_t index) {
  return kClassSizes[index] * 16 > 16 * 1024 ? kClassSizes[index] * 16 : 16 * 1024;
}

// The first chunk of a slab: after the header, aligned to the class size.
std::size_t first_chunk_offset(std::size_t index) {
  return round_up(sizeof(Slab), kClassSizes[index]);
}

std::uint8_t* link_of(const std::uint8_t* chunk) {
  std::uint8_t* next = nullptr;
  std::memcpy(&next, chunk, kLinkSize);
  return next;
}

void set_link(std::uint8_t* chunk, std::uint8_t* next) {
  std::memcpy(chunk, &next, kLinkSize);
}

// The pool's state. Constant-initialized and trivially destructible: it exists before any
// static constructor runs and is never destroyed, so secrets released during exit find it.
struct Pool {
  std::mutex mutex;
  std::array<Slab*, kClassCount> with_room{};    // per class: slabs that are not full
  std::array<std::size_t, kClassCount> empty{};  // per class: slabs with no live chunk
  std::size_t slabs = 0;
  std::size_t slabs_mapped = 0;
  std::size_t chunks_in_use = 0;
  bool fork_handlers_registered = false;
};
static_assert(std::is_trivially_destructible_v<Pool>, "the pool must outlive every secret");

constinit Pool pool;

// A wholly free slab beyond this many per class goes back to the system: steady traffic keeps
// its slab, a burst's memory is returned when the burst is over.
constexpr std::size_t kEmptySlabsKept = 1;

// A fork while another thread holds the mutex must not leave the child's copy locked forever:
// fork waits for the mutex, and both sides release it. Precondition: pool.mutex held.
void register_fork_handlers() {
  if (pool.fork_handlers_registered) return;
  pool.fork_handlers_registered =
      ::pthread_atfork([] { pool.mutex.lock(); }, [] { pool.mutex.unlock(); },
                       [] { pool.mutex.unlock(); }) == 0;
}

// Preconditions for the list functions: pool.mutex held.
void link(Slab* slab, std::size_t index) {
  slab->prev = nullptr;
  slab->next = pool.with_room[index];
  if (slab->next != nullptr) slab->next->prev = slab;
  pool.with_room[index] = slab;
  slab->listed = true;
}

void unlink(Slab* slab, std::size_t index) {
  if (slab->prev != nullptr) {
    slab->prev->next = slab->next;
  } else {
    pool.with_room[index] = slab->next;
  }
  if (slab->next != nullptr) slab->next->prev = slab->prev;
  slab->prev = slab->next = nullptr;
  slab->listed = false;
}

// Maps a slab for class `index`, aligned to its size, and lists it (empty). Throws
// std::bad_alloc. Precondition: pool.mutex held.
Slab* add_slab(std::size_t index) {
  const std::size_t size = slab_size(index);
  // Twice the size, then the unaligned head and tail are given back.
  void* p = ::mmap(nullptr, 2 * size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  auto* start = static_cast<std::uint8_t*>(p);
  auto* aligned =
      reinterpret_cast<std::uint8_t*>(round_up(reinterpret_cast<std::uintptr_t>(p), size));
  const auto head = static_cast<std::size_t>(aligned - start);
  if (head > 0) ::munmap(start, head);
  ::munmap(aligned + size, size - head);
  protect(aligned, size);

  Slab* slab = new (aligned) Slab;
  slab->unused = aligned + first_chunk_offset(index);
  slab->end = aligned + size;
  poison(slab->unused, static_cast<std::size_t>(slab->end - slab->unused));
  link(slab, index);
  ++pool.empty[index];
  ++pool.slabs;
  ++pool.slabs_mapped;
  register_fork_handlers();
  return slab;
}

Block allocate_chunk(std::size_t size) {
  const std::size_t index = class_index(size);
  const std::size_t capacity = kClassSizes[index];
  std::uint8_t* chunk = nullptr;
  {
    const std::lock_guard lock(pool.mutex);
    Slab* slab = pool.with_room[index];
    if (slab == nullptr) slab = add_slab(index);
    if (slab->free != nullptr) {
      chunk = slab->free;
      unpoison(chunk, kLinkSize);
      slab->free = link_of(chunk);
      std::memset(chunk, 0, kLinkSize);  // the rest was wiped on release
    } else {
      chunk = slab->unused;  // zero since it was mapped
      slab->unused += capacity;
    }
    if (slab->live++ == 0) --pool.empty[index];
    if (slab->free == nullptr && slab->unused + capacity > slab->end) unlink(slab, index);
    ++pool.chunks_in_use;
  }
  poison(chunk, capacity);
  unpoison(chunk, size);
  return Block{chunk, capacity};
}

void release_chunk(Block block) noexcept {
  unpoison(block.data, block.capacity);
  OPENSSL_cleanse(block.data, block.capacity);
  const std::size_t index = class_index(block.capacity);
  const std::size_t size = slab_size(index);
  auto* slab = reinterpret_cast<Slab*>(reinterpret_cast<std::uintptr_t>(block.data) / size * size);
  Slab* to_unmap = nullptr;
  {
    const std::lock_guard lock(pool.mutex);
    set_link(block.data, slab->free);
    poison(block.data, block.capacity);
    slab->free = block.data;
    if (!slab->listed) link(slab, index);
    --pool.chunks_in_use;
    if (--slab->live == 0) {
      if (pool.empty[index] < kEmptySlabsKept) {
        ++pool.empty[index];
      } else {
        unlink(slab, index);
        --pool.slabs;
        to_unmap = slab;
      }
    }
  }
  if (to_unmap != nullptr) {
    unpoison(to_unmap, size);
    (void)::munlock(to_unmap, size);
    (void)::munmap(to_unmap, size);
  }
}

}  // namespace

std::size_t capacity_for(std::size_t size) {
  if (size == 0) return 0;
  if (size <= kLargestClass) return kClassSizes[class_index(size)];
  return round_up(size, page_size());
}

Block allocate(std::size_t size) {
  if (size == 0) return {};
  if (size > kLargestClass) return map_dedicated(size);
  return allocate_chunk(size);
}

void release(Block block) noexcept {
  if (block.data == nullptr) return;
  if (block.capacity > kLargestClass) {
    unmap_dedicated(block);
  } else {
    release_chunk(block);
  }
}

Block map_dedicated(std::size_t size) {
  const std::size_t capacity = round_up(size, page_size());
  void* p = ::mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  protect(p, capacity);
  return Block{static_cast<std::uint8_t*>(p), capacity};  // mmap returns zero-filled pages
}

void unmap_dedicated(Block block) noexcept {
  OPENSSL_cleanse(block.data, block.capacity);
  (void)::munlock(block.data, block.capacity);
  (void)::munmap(block.data, block.capacity);
}

Stats stats() {
  const std::lock_guard lock(pool.mutex);
  return Stats{pool.slabs, pool.slabs_mapped, pool.chunks_in_use};
}

}  // namespace touchpass::secret_pool
