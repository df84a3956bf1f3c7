// Internal to src/core: the few OpenSSL 3 EVP operations the derivation needs (SHA-256,
// SHA-512, HMAC, HKDF), wrapped so that every context is freed on every path and every failure
// becomes a Status. Not part of the public core API; include the concept headers instead.
//
// Only non-deprecated OpenSSL 3 interfaces are used: EVP_MD_CTX with EVP_DigestInit_ex2,
// EVP_MAC "HMAC" and EVP_KDF "HKDF". OpenSSL frees (and cleanses) its MAC and KDF contexts;
// the outputs go straight into buffers the caller owns, so nothing secret is left behind here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>

#include "core/status.h"

namespace touchpass::crypto {

using ByteView = std::span<const std::uint8_t>;

// The bytes of `text` (e.g. a label such as "touchpass/v1/salt"), without terminator.
inline ByteView text_bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// out = SHA-256(parts[0] || parts[1] || ...). Precondition: out.size() == 32.
Status sha256(std::initializer_list<ByteView> parts, std::span<std::uint8_t> out);

// out = SHA-512(parts[0] || parts[1] || ...). Precondition: out.size() == 64.
Status sha512(std::initializer_list<ByteView> parts, std::span<std::uint8_t> out);

// out = HMAC-SHA-256(key, message). Precondition: out.size() == 32.
Status hmac_sha256(ByteView key, ByteView message, std::span<std::uint8_t> out);

// An HMAC-SHA-256 key prepared once for many MACs: the algorithm is fetched and the key set up
// at creation, so each compute() only copies that state (no provider look-up, which in
// OpenSSL 3 takes a lock every thread shares). Thread-safe for compute().
class HmacSha256Key {
 public:
  // Errors: internal if OpenSSL fails.
  static Result<HmacSha256Key> create(ByteView key);
  HmacSha256Key(HmacSha256Key&&) noexcept;
  HmacSha256Key& operator=(HmacSha256Key&&) noexcept;
  ~HmacSha256Key();

  // out = HMAC-SHA-256(key, message). Precondition: out.size() == 32.
  Status compute(ByteView message, std::span<std::uint8_t> out) const;

 private:
  explicit HmacSha256Key(void* prepared) : prepared_(prepared) {}
  void* prepared_ = nullptr;  // EVP_MAC_CTX initialized with the key; never updated
};

// out = HKDF-SHA-256(ikm, salt, info, L = out.size()) (RFC 5869, extract then expand).
// Precondition: 0 < out.size() <= 255 * 32.
Status hkdf_sha256(ByteView ikm, ByteView salt, ByteView info, std::span<std::uint8_t> out);

}  // namespace touchpass::crypto
