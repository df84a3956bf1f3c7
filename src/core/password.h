// The app-password text format (DESIGN.md §5 steps 4 and 5, normative).
//
// Writing (step 4). K is the 13-byte key from derive_app_password_key. Its first 100 bits,
// most significant bit first, are cut into twenty 5-bit values; each value v becomes
// kPasswordAlphabet[v]; the 20 characters are shown as five groups of four joined by '-':
//
//   K    = 6a 75 54 62 c3 a9 c1 79 b3 89 ae ed 61          (bits 100..103 are unused)
//   bits = 01101 01001 11010 10101 ...
//   v    = 13    9     26    21    ...
//   text = d     9     t     n     ...  ->  "d9tn-8rp3-n70q-kcw9-nvpp"
//
// The alphabet is Crockford's base32 in lower case: the digits and the letters without i, l,
// o and u, so nothing a person reads can be mistaken for something else.
//
// Reading (step 5). What a person types is normalized before it is verified: spaces and '-'
// are dropped, ASCII letters are lower-cased, then 'o' becomes '0' and 'i' and 'l' become '1'.
// Nothing else is changed (a tab, a newline or a non-ASCII byte stays and makes the result
// malformed). A normalized password is well formed when it is exactly 20 alphabet characters.
//
// Passwords are secrets: they live only in SecretBytes, which wipe themselves.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

#include "core/secret.h"
#include "core/status.h"

namespace touchpass {

inline constexpr std::string_view kPasswordAlphabet = "0123456789abcdefghjkmnpqrstvwxyz";
inline constexpr std::size_t kPasswordChars = 20;  // 100 bits, 5 per character
inline constexpr std::size_t kPasswordGroupChars = 4;
inline constexpr std::size_t kPasswordGroups = kPasswordChars / kPasswordGroupChars;
inline constexpr std::size_t kGroupedPasswordChars = kPasswordChars + kPasswordGroups - 1;
// Size of K: the smallest whole number of bytes holding 100 bits.
inline constexpr std::size_t kAppPasswordKeyBytes = 13;

// AppPassword: one app password as shown to a person, "xxxx-xxxx-xxxx-xxxx-xxxx". Move-only;
// its text is wiped when it is destroyed.
class AppPassword {
 public:
  // The grouped text (24 characters). Valid while *this lives; do not copy it into a
  // std::string or a log.
  std::string_view grouped() const { return text_.view(); }

 private:
  friend Result<AppPassword> format_password(std::span<const std::uint8_t> key);
  explicit AppPassword(SecretBytes text) : text_(std::move(text)) {}

  SecretBytes text_;
};

// The password written from K as described above. invalid_argument unless `key` is exactly
// 13 bytes. Runs in time independent of the key's value.
Result<AppPassword> format_password(std::span<const std::uint8_t> key);

// `typed` normalized as described above. The caller still owns (and wipes) `typed`.
SecretBytes normalize_password(std::string_view typed);

// True iff `normalized` is exactly 20 characters of kPasswordAlphabet.
bool is_well_formed(std::string_view normalized);

}  // namespace touchpass
