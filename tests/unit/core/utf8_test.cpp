// The one strict UTF-8 check (RFC 3629).
#include "core/utf8.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace touchpass {
namespace {

using namespace std::string_literals;

bool valid(std::string_view text) {
  const std::vector<std::uint8_t> bytes(text.begin(), text.end());
  return is_valid_utf8(bytes);
}

// Every form the strict check rejects, whole.
const std::vector<std::string> kIllFormed = {
    "\xC0\x80"s,          // overlong U+0000
    "\xC1\xBF"s,          // overlong U+007F
    "\xE0\x80\x80"s,      // overlong U+0000
    "\xE0\x9F\xBF"s,      // overlong U+07FF
    "\xF0\x80\x80\x80"s,  // overlong U+0000
    "\xF0\x8F\xBF\xBF"s,  // overlong U+FFFF
    "\xED\xA0\x80"s,      // U+D800, a surrogate
    "\xED\xBF\xBF"s,      // U+DFFF, a surrogate
    "\xF4\x90\x80\x80"s,  // U+110000
    "\xF5\x80\x80\x80"s,  // a lead byte that only starts code points above U+10FFFF
    "\xFF"s,
    "\xC3"s,          // truncated 2-byte
    "\xE2\x82"s,      // truncated 3-byte
    "\xF0\x9F\x98"s,  // truncated 4-byte
    "\x80"s,          // stray continuation byte
    "\xBF"s,
    "a\x80"s,         // a continuation byte after a complete character
    "\xC3\xA9\xA9"s,  // one continuation byte too many
    "\xE2\x28\xA1"s,  // a sequence broken by an ASCII byte
};

TEST(Utf8Test, DecodesAsciiAndEveryLength) {
  EXPECT_EQ(decode_utf8(""), U"");
  EXPECT_EQ(decode_utf8("hello"), U"hello");
  EXPECT_EQ(decode_utf8("\xC3\xA9"), U"\u00E9");              // 2 bytes
  EXPECT_EQ(decode_utf8("\xE2\x82\xAC"), U"\u20AC");          // 3 bytes
  EXPECT_EQ(decode_utf8("\xF0\x9F\x98\x80"), U"\U0001F600");  // 4 bytes
  EXPECT_EQ(decode_utf8("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z"), U"a\u00E9\u20AC\U0001F600z");
}

TEST(Utf8Test, DecodesTheBoundariesOfEachLength) {
  EXPECT_EQ(decode_utf8("\x7F"), U"\u007F");
  EXPECT_EQ(decode_utf8("\xC2\x80"), U"\u0080");
  EXPECT_EQ(decode_utf8("\xDF\xBF"), U"\u07FF");
  EXPECT_EQ(decode_utf8("\xE0\xA0\x80"), U"\u0800");
  EXPECT_EQ(decode_utf8("\xED\x9F\xBF"), U"\uD7FF");  // just below the surrogates
  EXPECT_EQ(decode_utf8("\xEE\x80\x80"), U"\uE000");  // just above them
  EXPECT_EQ(decode_utf8("\xEF\xBF\xBF"), U"\uFFFF");
  EXPECT_EQ(decode_utf8("\xF0\x90\x80\x80"), U"\U00010000");
  EXPECT_EQ(decode_utf8("\xF4\x8F\xBF\xBF"), U"\U0010FFFF");
}

TEST(Utf8Test, NulIsWellFormed) {
  EXPECT_EQ(decode_utf8("a\0b"s), U"a\0b"s);
  EXPECT_TRUE(valid("a\0b"s));
}

TEST(Utf8Test, RejectsOverlongSurrogateTooLargeTruncatedAndStrayBytes) {
  for (const std::string& bad : kIllFormed) {
    SCOPED_TRACE(::testing::PrintToString(bad));
    EXPECT_FALSE(decode_utf8(bad));
    EXPECT_FALSE(decode_utf8("ok " + bad + " ok"));
    EXPECT_FALSE(valid(bad));
    EXPECT_FALSE(valid("ok " + bad + " ok"));
  }
}

TEST(Utf8Test, ValidityAgreesWithDecoding) {
  EXPECT_TRUE(valid(""));
  EXPECT_TRUE(valid("1234"));
  EXPECT_TRUE(valid("p\xC3\xA4\xE2\x82\xAC\xF0\x9F\x98\x80"));
  EXPECT_TRUE(valid("\xF4\x8F\xBF\xBF"));
}

TEST(Utf8Test, DecodesOneCharacterAtTheStartAndIgnoresTheRest) {
  const auto ascii = decode_utf8_char("ab");
  ASSERT_TRUE(ascii);
  EXPECT_EQ(ascii->code_point, U'a');
  EXPECT_EQ(ascii->length, 1U);

  const auto euro = decode_utf8_char("\xE2\x82\xAC\xFF");  // a bad byte after it does not matter
  ASSERT_TRUE(euro);
  EXPECT_EQ(euro->code_point, U'\u20AC');
  EXPECT_EQ(euro->length, 3U);

  const auto emoji = decode_utf8_char("\xF0\x9F\x98\x80");
  ASSERT_TRUE(emoji);
  EXPECT_EQ(emoji->code_point, U'\U0001F600');
  EXPECT_EQ(emoji->length, 4U);
}

TEST(Utf8Test, DecodingOneCharacterRejectsEmptyAndIllFormedStarts) {
  EXPECT_FALSE(decode_utf8_char(""));
  for (const std::string& bad : kIllFormed) {
    SCOPED_TRACE(::testing::PrintToString(bad));
    // Those that start with a complete character are only bad further on.
    const bool starts_well = bad[0] == 'a' || bad.rfind("\xC3\xA9", 0) == 0;
    EXPECT_EQ(decode_utf8_char(bad).has_value(), starts_well);
  }
}

}  // namespace
}  // namespace touchpass
