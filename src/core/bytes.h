// Byte strings and their hexadecimal form.
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

// The bytes of an ASCII string, without terminator.
inline Bytes bytes_of(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

}  // namespace touchpass
