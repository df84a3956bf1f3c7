#include "core/secret.h"

#include <openssl/crypto.h>

#include <cassert>
#include <cstring>
#include <utility>

#include "core/secret_pool.h"

namespace touchpass {

SecretBytes::SecretBytes(std::size_t size) {
  const secret_pool::Block block = secret_pool::allocate(size);  // zero-filled
  data_ = block.data;
  capacity_ = block.capacity;
  size_ = size;
}

SecretBytes SecretBytes::copy_of(std::span<const std::uint8_t> bytes) {
  SecretBytes s(bytes.size());
  if (!bytes.empty()) std::memcpy(s.data_, bytes.data(), bytes.size());
  return s;
}

SecretBytes SecretBytes::copy_of(std::string_view text) {
  return copy_of(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()),
                                               text.size()));
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

SecretBytes::~SecretBytes() {
  release();
}

void SecretBytes::release() noexcept {
  secret_pool::release({data_, capacity_});  // wipes the whole block
  data_ = nullptr;
  size_ = 0;
  capacity_ = 0;
}

void SecretBytes::truncate(std::size_t n) {
  assert(n <= size_);
  if (n < size_) OPENSSL_cleanse(data_ + n, size_ - n);
  size_ = n;
}

bool SecretBytes::equals(std::span<const std::uint8_t> other) const {
  if (other.size() != size_) return false;
  if (size_ == 0) return true;
  return CRYPTO_memcmp(data_, other.data(), size_) == 0;
}

}  // namespace touchpass
