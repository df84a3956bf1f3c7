#include "core/utf8.h"

namespace touchpass {

std::optional<Utf8Char> decode_utf8_char(std::string_view text) {
  if (text.empty()) return std::nullopt;
  const auto byte = [&text](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return Utf8Char{lead, 1};
  std::size_t length = 0;
  char32_t min = 0;  // the smallest code point of that length: anything less is overlong
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    min = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    min = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    min = 0x10000;
  } else {
    return std::nullopt;  // a continuation byte, an overlong lead (C0, C1) or F5..FF
  }
  if (text.size() < length) return std::nullopt;
  char32_t code_point = lead & (0x7FU >> length);
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0U) != 0x80U) return std::nullopt;
    code_point = code_point << 6 | (byte(i) & 0x3FU);
  }
  if (code_point < min || code_point > 0x10FFFF || (code_point >= 0xD800 && code_point <= 0xDFFF)) {
    return std::nullopt;
  }
  return Utf8Char{code_point, length};
}

std::optional<std::u32string> decode_utf8(std::string_view text) {
  std::u32string out;
  while (!text.empty()) {
    const auto decoded = decode_utf8_char(text);
    if (!decoded) return std::nullopt;
    out.push_back(decoded->code_point);
    text.remove_prefix(decoded->length);
  }
  return out;
}

bool is_valid_utf8(std::span<const std::uint8_t> bytes) {
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  while (!text.empty()) {
    const auto decoded = decode_utf8_char(text);
    if (!decoded) return false;
    text.remove_prefix(decoded->length);
  }
  return true;
}

}  // namespace touchpass
