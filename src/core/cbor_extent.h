// The extent of one CBOR item, measured before any CBOR library builds it. libcbor allocates
// what a header announces (an array "of 2^28 items" in five bytes is gigabytes), so every
// untrusted CBOR is first walked here: definite lengths only, and no count larger than the
// bytes that could hold it. No recursion: nesting costs a counter, not stack. Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace touchpass {

// The number of bytes the well-formed, definite-length CBOR item at the front of `data` takes
// (a prefix of `data`), or nullopt when `data` does not start with one: cut short, an
// indefinite length, a reserved additional-information value, a non-shortest simple value, or
// a length or count that cannot fit in the bytes that follow.
std::optional<std::size_t> cbor_item_extent(std::span<const std::uint8_t> data);

}  // namespace touchpass
