#include "core/cbor_extent.h"

namespace touchpass {

std::optional<CborHead> cbor_head(std::span<const std::uint8_t> data) {
  if (data.empty()) return std::nullopt;
  const std::uint8_t initial = data[0];
  CborHead head{initial >> 5, initial & 0x1fu, 1};
  const std::uint8_t info = initial & 0x1f;
  if (info >= 24) {
    if (info > 27) return std::nullopt;  // indefinite lengths and reserved values
    const std::size_t width = std::size_t{1} << (info - 24);
    if (data.size() - 1 < width) return std::nullopt;
    head.argument = 0;
    for (std::size_t i = 0; i < width; ++i) head.argument = (head.argument << 8) | data[1 + i];
    head.size += width;
  }
  if (head.major == 7 && info == 24 && head.argument < 32) return std::nullopt;  // non-shortest
  return head;
}

std::optional<std::size_t> cbor_item_extent(std::span<const std::uint8_t> data) {
  std::size_t pos = 0;
  std::uint64_t pending = 1;  // items still to read
  while (pending > 0) {
    const std::optional<CborHead> head = cbor_head(data.subspan(pos));
    if (!head) return std::nullopt;
    pos += head->size;
    const std::uint64_t value = head->argument;
    const std::uint64_t remaining = data.size() - pos;
    --pending;
    switch (head->major) {
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
      default:  // integers and simple values: the head is the whole item
        break;
    }
  }
  return pos;
}

}  // namespace touchpass
