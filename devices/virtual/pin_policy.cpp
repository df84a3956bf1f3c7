#include "devices/virtual/pin_policy.h"

#include <openssl/crypto.h>

#include "devices/virtual/crypto.h"

namespace touchpass::vtoken {

namespace {

// The length of the UTF-8 sequence starting with `lead`, or 0 when it cannot start one.
std::size_t utf8_sequence_length(std::uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

// RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::span<const std::uint8_t> text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const std::uint8_t lead = text[i];
    const std::size_t n = utf8_sequence_length(lead);
    if (n == 0 || text.size() - i < n) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((text[i + k] & 0xc0) != 0x80) return false;
    if (n >= 3) {
      const std::uint8_t second = text[i + 1];
      if (lead == 0xe0 && second < 0xa0) return false;  // overlong
      if (lead == 0xed && second > 0x9f) return false;  // surrogates
      if (lead == 0xf0 && second < 0x90) return false;  // overlong
      if (lead == 0xf4 && second > 0x8f) return false;  // above U+10FFFF
    }
    i += n;
  }
  return true;
}

}  // namespace

bool pin_meets_policy(std::span<const std::uint8_t> pin) {
  if (pin.size() < kMinPinBytes || pin.size() > kMaxPinBytes) return false;
  for (std::uint8_t b : pin)
    if (b == 0) return false;
  return valid_utf8(pin);
}

Bytes pin_hash(std::span<const std::uint8_t> pin) {
  Bytes digest = crypto::sha256(pin);
  Bytes left(digest.begin(), digest.begin() + 16);
  OPENSSL_cleanse(digest.data(), digest.size());
  return left;
}

}  // namespace touchpass::vtoken
