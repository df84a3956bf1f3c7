#include "devices/virtual/pin_policy.h"

#include <openssl/crypto.h>

#include "core/utf8.h"
#include "devices/virtual/crypto.h"

namespace touchpass::vtoken {

bool pin_meets_policy(std::span<const std::uint8_t> pin) {
  if (pin.size() < kMinPinBytes || pin.size() > kMaxPinBytes) return false;
  for (std::uint8_t b : pin)
    if (b == 0) return false;
  return is_valid_utf8(pin);
}

Bytes pin_hash(std::span<const std::uint8_t> pin) {
  Bytes digest = crypto::sha256(pin);
  Bytes left(digest.begin(), digest.begin() + 16);
  OPENSSL_cleanse(digest.data(), digest.size());
  return left;
}

}  // namespace touchpass::vtoken
