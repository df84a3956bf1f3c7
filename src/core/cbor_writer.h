// CborWriter: a small encoder for deterministic CBOR (RFC 8949 §4.2.1): definite lengths and
// the shortest form of every integer and length. It writes items in the order it is told; the
// caller writes map keys in ascending order (for integer keys: 0, 1, 2, …, then -1, -2, …;
// for text keys: shorter first, then bytewise). Parsing untrusted CBOR is libcbor's job.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace touchpass {

class CborWriter {
 public:
  // Major types 0 and 1: any integer in [-2^63, 2^64 - 1].
  CborWriter& uint(std::uint64_t v);
  CborWriter& nint(std::int64_t v);  // any signed value; negative ones use major type 1
  CborWriter& bytes(std::span<const std::uint8_t> b);
  CborWriter& text(std::string_view s);
  // Headers: the next `count` items (arrays) or 2 * `count` items (maps: key, value, …).
  CborWriter& array(std::size_t count);
  CborWriter& map(std::size_t count);
  CborWriter& boolean(bool b);
  // Appends an already-encoded item (e.g. a COSE key built elsewhere).
  CborWriter& raw(std::span<const std::uint8_t> encoded);

  const std::vector<std::uint8_t>& data() const { return out_; }
  std::vector<std::uint8_t> take() { return std::move(out_); }

 private:
  void head(std::uint8_t major, std::uint64_t value);
  std::vector<std::uint8_t> out_;
};

}  // namespace touchpass
