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

// The head of a CBOR item (RFC 8949 §3): its major type, its argument (the value of an
// integer, the length of a string, the count of an array or map, a tag number, or a simple
// value) and how many bytes the head takes.
struct CborHead {
  int major = 0;
  std::uint64_t argument = 0;
  std::size_t size = 0;
};

// The head at the front of `data`, or nullopt when it is cut short, an indefinite length, a
// reserved additional-information value, or a non-shortest simple value.
std::optional<CborHead> cbor_head(std::span<const std::uint8_t> data);

// The number of bytes the well-formed, definite-length CBOR item at the front of `data` takes
// (a prefix of `data`), or nullopt when `data` does not start with one: a head cbor_head
// refuses, or a length or count that cannot fit in the bytes that follow.
std::optional<std::size_t> cbor_item_extent(std::span<const std::uint8_t> data);

}  // namespace touchpass
