#include "core/cbor_extent.h"

namespace touchpass {

std::optional<std::size_t> cbor_item_extent(std::span<const std::uint8_t> data) {
  std::size_t pos = 0;
  std::uint64_t pending = 1;  // items still to read
  while (pending > 0) {
    if (pos >= data.size()) return std::nullopt;
    const std::uint8_t initial = data[pos++];
    const int major = initial >> 5;
    const std::uint8_t info = initial & 0x1f;
    std::uint64_t value = info;
    if (info >= 24) {
      if (info > 27) return std::nullopt;  // indefinite lengths and reserved values
      const std::size_t width = std::size_t{1} << (info - 24);
      if (data.size() - pos < width) return std::nullopt;
      value = 0;
      for (std::size_t i = 0; i < width; ++i) value = (value << 8) | data[pos++];
    }
    const std::uint64_t remaining = data.size() - pos;
    --pending;
    switch (major) {
      case 2:  // byte and text strings: the bytes follow
      case 3:
        if (value > remaining) return std::nullopt;
        pos += static_cast<std::size_t>(value);
        break;
      case 4:  // arrays: each item takes at least one byte
        if (value > remaining) return std::nullopt;
        pending += value;
        break;
      case 5:  // maps: each key and value at least one byte
        if (value > remaining / 2) return std::nullopt;
        pending += 2 * value;
        break;
      case 6:  // a tag and its item
        pending += 1;
        break;
      case 7:
        if (info == 24 && value < 32) return std::nullopt;  // non-shortest simple value
        break;
      default:  // unsigned and negative integers: the head is the whole item
        break;
    }
  }
  return pos;
}

}  // namespace touchpass
