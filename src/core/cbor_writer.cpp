#include "core/cbor_writer.h"

namespace touchpass {

void CborWriter::head(std::uint8_t major, std::uint64_t value) {
  const std::uint8_t mt = static_cast<std::uint8_t>(major << 5);
  if (value < 24) {
    out_.push_back(mt | static_cast<std::uint8_t>(value));
    return;
  }
  int width;
  if (value <= 0xff) {
    out_.push_back(mt | 24);
    width = 1;
  } else if (value <= 0xffff) {
    out_.push_back(mt | 25);
    width = 2;
  } else if (value <= 0xffffffffULL) {
    out_.push_back(mt | 26);
    width = 4;
  } else {
    out_.push_back(mt | 27);
    width = 8;
  }
  for (int i = width - 1; i >= 0; --i) out_.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

CborWriter& CborWriter::uint(std::uint64_t v) {
  head(0, v);
  return *this;
}

CborWriter& CborWriter::nint(std::int64_t v) {
  if (v >= 0) {
    head(0, static_cast<std::uint64_t>(v));
  } else {
    // -1 - v without overflow for INT64_MIN.
    head(1, static_cast<std::uint64_t>(-(v + 1)));
  }
  return *this;
}

CborWriter& CborWriter::bytes(std::span<const std::uint8_t> b) {
  head(2, b.size());
  out_.insert(out_.end(), b.begin(), b.end());
  return *this;
}

CborWriter& CborWriter::text(std::string_view s) {
  head(3, s.size());
  out_.insert(out_.end(), s.begin(), s.end());
  return *this;
}

CborWriter& CborWriter::array(std::size_t count) {
  head(4, count);
  return *this;
}

CborWriter& CborWriter::map(std::size_t count) {
  head(5, count);
  return *this;
}

CborWriter& CborWriter::boolean(bool b) {
  out_.push_back(b ? 0xf5 : 0xf4);
  return *this;
}

CborWriter& CborWriter::raw(std::span<const std::uint8_t> encoded) {
  out_.insert(out_.end(), encoded.begin(), encoded.end());
  return *this;
}

}  // namespace touchpass
