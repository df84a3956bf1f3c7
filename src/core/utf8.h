// The one UTF-8 check: strict RFC 3629 decoding. Well-formed means the shortest encoding of a
// code point up to U+10FFFF that is not a surrogate (U+D800..U+DFFF); overlong forms, surrogates,
// code points above U+10FFFF, stray continuation bytes and truncated sequences are all rejected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace touchpass {

// One character decoded from the start of a text.
struct Utf8Char {
  char32_t code_point;
  std::size_t length;  // its encoding's length in bytes, 1 to 4
};

// The character at the start of `text` when `text` begins with a well-formed encoding of one;
// nullopt when it does not (or `text` is empty). Reads at most 4 bytes of `text`. For walking a
// text that may hold bad bytes: advance by `length`, or by one byte on nullopt.
std::optional<Utf8Char> decode_utf8_char(std::string_view text);

// The code points of `text` when all of it is well-formed UTF-8; nullopt otherwise. The empty
// text decodes to the empty string.
std::optional<std::u32string> decode_utf8(std::string_view text);

// Whether all of `bytes` is well-formed UTF-8 (true for no bytes). NUL (U+0000) is well-formed:
// callers that forbid it check it themselves.
bool is_valid_utf8(std::span<const std::uint8_t> bytes);

}  // namespace touchpass
