// Verifier: what the store keeps instead of an app password (DESIGN.md §2 and §5 step 5,
// normative):
//
//   verifier = HMAC-SHA-256(key = pepper, message = normalized password)
//
// where the pepper is 32 random bytes kept in a root-only file outside the store, and the
// normalized password is the 20 alphabet characters (no '-'), see password.h. Without the
// pepper a leaked store allows no guessing; with it, a guess still costs a 100-bit search.
// The store indexes grants by verifier.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

#include "core/crypto.h"
#include "core/status.h"

namespace touchpass {

inline constexpr std::size_t kPepperBytes = 32;

class Verifier {
 public:
  static constexpr std::size_t kSize = 32;

  // The verifier held in `bytes` (e.g. read back from the store); invalid_argument unless
  // exactly 32 bytes.
  static Result<Verifier> from_bytes(std::span<const std::uint8_t> bytes);

  std::span<const std::uint8_t, kSize> bytes() const { return bytes_; }

  // Constant-time: the time taken does not depend on where two verifiers differ.
  friend bool operator==(const Verifier& a, const Verifier& b);
  friend class VerifierKey;

 private:
  Verifier() = default;
  friend Result<Verifier> compute_verifier(std::span<const std::uint8_t> pepper,
                                           std::string_view normalized);

  std::array<std::uint8_t, kSize> bytes_{};
};

// True iff a and b hold the same bytes, compared in constant time (CRYPTO_memcmp).
bool constant_time_equal(const Verifier& a, const Verifier& b);

// HMAC-SHA-256(pepper, normalized). invalid_argument unless the pepper is 32 bytes and
// `normalized` is well formed (is_well_formed): a verifier exists only for something that can
// be an app password. internal if OpenSSL fails.
Result<Verifier> compute_verifier(std::span<const std::uint8_t> pepper,
                                  std::string_view normalized);

// The verifier of what a person typed: normalize_password, then compute_verifier (the
// normalized copy is wiped). invalid_argument when the text is not an app password.
Result<Verifier> verifier_for_typed_password(std::span<const std::uint8_t> pepper,
                                             std::string_view typed);

// The pepper prepared once for the verification hot path: the same verifiers as the functions
// above, without setting up HMAC on every call. Thread-safe.
class VerifierKey {
 public:
  // invalid_argument unless the pepper is 32 bytes; internal if OpenSSL fails.
  static Result<VerifierKey> create(std::span<const std::uint8_t> pepper);
  // As verifier_for_typed_password.
  Result<Verifier> for_typed_password(std::string_view typed) const;

 private:
  explicit VerifierKey(crypto::HmacSha256Key key) : key_(std::move(key)) {}
  crypto::HmacSha256Key key_;
};

}  // namespace touchpass
