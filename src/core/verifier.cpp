#include "core/verifier.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <string>

#include "core/crypto.h"
#include "core/password.h"
#include "core/secret.h"

namespace touchpass {

Result<Verifier> Verifier::from_bytes(std::span<const std::uint8_t> bytes) {
  if (bytes.size() != kSize) {
    return Result<Verifier>(Code::invalid_argument, "A verifier is " + std::to_string(kSize) +
                                                        " bytes, not " +
                                                        std::to_string(bytes.size()) + ".");
  }
  Verifier v;
  std::copy(bytes.begin(), bytes.end(), v.bytes_.begin());
  return v;
}

bool constant_time_equal(const Verifier& a, const Verifier& b) {
  return CRYPTO_memcmp(a.bytes().data(), b.bytes().data(), Verifier::kSize) == 0;
}

bool operator==(const Verifier& a, const Verifier& b) {
  return constant_time_equal(a, b);
}

Result<Verifier> compute_verifier(std::span<const std::uint8_t> pepper,
                                  std::string_view normalized) {
  if (pepper.size() != kPepperBytes) {
    return Result<Verifier>(Code::invalid_argument,
                            "The pepper must be " + std::to_string(kPepperBytes) + " bytes.");
  }
  if (!is_well_formed(normalized)) {
    return Result<Verifier>(Code::invalid_argument, "This is not a touchpass app password.");
  }
  Verifier v;
  if (Status s = crypto::hmac_sha256(pepper, crypto::text_bytes(normalized), v.bytes_); !s.ok()) {
    return s;
  }
  return v;
}

Result<Verifier> verifier_for_typed_password(std::span<const std::uint8_t> pepper,
                                             std::string_view typed) {
  const SecretBytes normalized = normalize_password(typed);
  return compute_verifier(pepper, normalized.view());
}

Result<VerifierKey> VerifierKey::create(std::span<const std::uint8_t> pepper) {
  if (pepper.size() != kPepperBytes) {
    return Result<VerifierKey>(Code::invalid_argument,
                               "The pepper must be " + std::to_string(kPepperBytes) + " bytes.");
  }
  auto key = crypto::HmacSha256Key::create(pepper);
  if (!key.ok()) return key.error();
  return VerifierKey(std::move(*key));
}

Result<Verifier> VerifierKey::for_typed_password(std::string_view typed) const {
  const SecretBytes normalized = normalize_password(typed);
  if (!is_well_formed(normalized.view())) {
    return Result<Verifier>(Code::invalid_argument, "This is not a touchpass app password.");
  }
  Verifier v;
  if (Status s = key_.compute(crypto::text_bytes(normalized.view()), v.bytes_); !s.ok()) return s;
  return v;
}

}  // namespace touchpass
