// Byte strings and their text forms: hexadecimal and base64url (RFC 4648 §5, no padding, as
// WebAuthn writes challenges and credential ids).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace touchpass {

using Bytes = std::vector<std::uint8_t>;

// Lower-case hexadecimal of `bytes`.
std::string to_hex(std::span<const std::uint8_t> bytes);

// Parses hexadecimal (either case, even length, no separators); nullopt on any other input.
std::optional<Bytes> from_hex(std::string_view hex);

// base64url of `bytes` without padding.
std::string to_base64url(std::span<const std::uint8_t> bytes);

// Parses base64url without padding, strictly: only [A-Za-z0-9_-], no length of 4n+1, and the
// unused bits of the last character zero (so each byte string has exactly one text form);
// nullopt on any other input.
std::optional<Bytes> from_base64url(std::string_view text);

// The bytes of an ASCII string, without terminator.
inline Bytes bytes_of(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

}  // namespace touchpass
