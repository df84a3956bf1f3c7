// SecretBytes: a fixed-size buffer for secrets (PINs, hmac-secret outputs, derived keys,
// passwords). Its memory is locked against swapping, excluded from core dumps
// (MADV_DONTDUMP) and wiped with OPENSSL_cleanse when the buffer is destroyed or moved from.
// It cannot be copied by accident: copying is explicit (clone()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace touchpass {

class SecretBytes {
 public:
  SecretBytes() = default;
  // A zero-filled secret of `size` bytes.
  explicit SecretBytes(std::size_t size);
  // A secret holding a copy of `bytes`. The caller still owns (and must wipe) the source.
  static SecretBytes copy_of(std::span<const std::uint8_t> bytes);
  static SecretBytes copy_of(std::string_view text);

  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  ~SecretBytes();

  // An explicit copy.
  SecretBytes clone() const { return copy_of(bytes()); }

  std::uint8_t* data() { return data_; }
  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
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
  std::size_t mapped_ = 0;  // bytes mapped (whole pages); 0 when nothing is allocated
};

}  // namespace touchpass
