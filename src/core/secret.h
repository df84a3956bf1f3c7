// SecretBytes: a fixed-size buffer for secrets (PINs, hmac-secret outputs, derived keys,
// passwords). Its memory is locked against swapping, excluded from core dumps
// (MADV_DONTDUMP) and wiped with OPENSSL_cleanse when the buffer is destroyed or moved from.
// It cannot be copied by accident: copying is explicit (clone()). The memory comes from a
// process-wide pool of locked memory (secret_pool.h), so a secret is cheap to create; it is
// thread-safe to create and destroy secrets from any thread, also during static destruction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace touchpass {

class SecretBytes {
 public:
  // An empty secret; allocates nothing.
  SecretBytes() = default;
  // A zero-filled secret of `size` bytes (nothing is allocated for 0). Throws std::bad_alloc
  // when the system has no memory to give.
  explicit SecretBytes(std::size_t size);
  // A secret holding a copy of `bytes`. The caller still owns (and must wipe) the source.
  static SecretBytes copy_of(std::span<const std::uint8_t> bytes);
  // A secret holding a copy of `text`'s bytes. The caller still owns the source.
  static SecretBytes copy_of(std::string_view text);

  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  // Takes over `other`'s memory; `other` is left empty.
  SecretBytes(SecretBytes&& other) noexcept;
  // Wipes and releases this secret's memory, then takes over `other`'s; `other` is left empty.
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  // Wipes and releases the memory.
  ~SecretBytes();

  // An explicit copy.
  SecretBytes clone() const { return copy_of(bytes()); }

  // The bytes (nullptr when empty), valid while *this lives and is not moved from.
  std::uint8_t* data() { return data_; }
  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // The bytes as a span, valid while *this lives and is not moved from.
  std::span<std::uint8_t> bytes() { return {data_, size_}; }
  std::span<const std::uint8_t> bytes() const { return {data_, size_}; }
  // The bytes viewed as text (for PINs and passwords). Valid while *this lives.
  std::string_view view() const { return {reinterpret_cast<const char*>(data_), size_}; }

  // Shrinks the logical size (the tail is wiped). Precondition: n <= size().
  void truncate(std::size_t n);

  // Constant-time comparison of contents.
  bool equals(std::span<const std::uint8_t> other) const;

 private:
  void release() noexcept;

  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;  // bytes reserved (a secret_pool::Block); 0 when none
};

}  // namespace touchpass
