#include "core/bytes.h"

#include <gtest/gtest.h>

namespace touchpass {
namespace {

TEST(Hex, RoundTrips) {
  const Bytes b = {0x00, 0x01, 0xab, 0xff};
  EXPECT_EQ(to_hex(b), "0001abff");
  EXPECT_EQ(from_hex("0001ABff"), b);
  EXPECT_EQ(from_hex(""), Bytes{});
}

TEST(Hex, RejectsMalformedInput) {
  EXPECT_FALSE(from_hex("0"));
  EXPECT_FALSE(from_hex("0g"));
  EXPECT_FALSE(from_hex("00 1"));
}

TEST(Base64Url, ReproducesRfc4648AndRoundTrips) {
  const std::pair<const char*, const char*> cases[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : cases) {
    EXPECT_EQ(to_base64url(bytes_of(plain)), encoded);
    EXPECT_EQ(from_base64url(encoded), bytes_of(plain)) << encoded;
  }
  // The URL-safe alphabet: 0xfb 0xff -> "-_8" (standard base64 would be "+/8=").
  EXPECT_EQ(to_base64url(Bytes{0xfb, 0xff}), "-_8");
  EXPECT_EQ(from_base64url("-_8"), (Bytes{0xfb, 0xff}));
}

TEST(Base64Url, RejectsPaddingOtherAlphabetsAndNonCanonicalText) {
  EXPECT_FALSE(from_base64url("Zg=="));
  EXPECT_FALSE(from_base64url("+/8"));
  EXPECT_FALSE(from_base64url("Z"));   // 6 bits: no whole byte
  EXPECT_FALSE(from_base64url("Zh"));  // "f" with a trailing bit set
  EXPECT_FALSE(from_base64url("Zm9 v"));
}

}  // namespace
}  // namespace touchpass
