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

}  // namespace
}  // namespace touchpass
