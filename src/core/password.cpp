#include "core/password.h"

#include <string>
#include <utility>

namespace touchpass {

namespace {

// All ones if a == b, else zero; without a branch or a look-up that depends on the values.
std::uint8_t equal_mask(std::uint32_t a, std::uint32_t b) {
  const std::uint32_t diff = a ^ b;                             // 0 iff equal
  const std::uint32_t is_nonzero = (diff | (0u - diff)) >> 31;  // 1 iff diff != 0
  return static_cast<std::uint8_t>(0u - (is_nonzero ^ 1u));     // 0xff iff equal
}

// kPasswordAlphabet[value] for value < 32, reading every entry so that the memory access
// pattern does not reveal the (secret) value.
char alphabet_char(std::uint32_t value) {
  std::uint8_t out = 0;
  for (std::uint32_t j = 0; j < kPasswordAlphabet.size(); ++j) {
    out |= static_cast<std::uint8_t>(static_cast<std::uint8_t>(kPasswordAlphabet[j]) &
                                     equal_mask(value, j));
  }
  return static_cast<char>(out);
}

// Bits [5 * index, 5 * index + 5) of `key`, most significant bit first.
std::uint32_t five_bits(std::span<const std::uint8_t> key, std::size_t index) {
  const std::size_t bit = 5 * index;
  const std::size_t byte = bit / 8;
  // A 16-bit window holds any 5 bits that start in `byte`; bit 99 lies in byte 12, so the
  // window's second byte is at most byte 12 as well (index 19: bits 95..99, bytes 11..12).
  const std::uint32_t window = std::uint32_t{key[byte]} << 8 | std::uint32_t{key[byte + 1]};
  return (window >> (16 - 5 - bit % 8)) & 0x1fu;
}

}  // namespace

Result<AppPassword> format_password(std::span<const std::uint8_t> key) {
  if (key.size() != kAppPasswordKeyBytes) {
    return Result<AppPassword>(Code::invalid_argument,
                               "An app-password key is " + std::to_string(kAppPasswordKeyBytes) +
                                   " bytes, not " + std::to_string(key.size()) + ".");
  }
  SecretBytes text(kGroupedPasswordChars);
  std::size_t out = 0;
  for (std::size_t i = 0; i < kPasswordChars; ++i) {
    if (i != 0 && i % kPasswordGroupChars == 0) text.data()[out++] = '-';
    text.data()[out++] = static_cast<std::uint8_t>(alphabet_char(five_bits(key, i)));
  }
  return AppPassword(std::move(text));
}

SecretBytes normalize_password(std::string_view typed) {
  SecretBytes out(typed.size());
  std::size_t n = 0;
  for (char c : typed) {
    if (c == ' ' || c == '-') continue;
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == 'o') c = '0';
    if (c == 'i' || c == 'l') c = '1';
    out.data()[n++] = static_cast<std::uint8_t>(c);
  }
  out.truncate(n);
  return out;
}

bool is_well_formed(std::string_view normalized) {
  if (normalized.size() != kPasswordChars) return false;
  for (char c : normalized) {
    if (kPasswordAlphabet.find(c) == std::string_view::npos) return false;
  }
  return true;
}

}  // namespace touchpass
