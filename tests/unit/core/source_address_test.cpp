// Sources as brute-force protection counts them.
#include "core/source_address.h"

#include <gtest/gtest.h>

namespace touchpass {
namespace {

TEST(SourceAddressTest, IPv4AddressesAreTheirOwnSource) {
  EXPECT_EQ(source_of("192.0.2.7", 64), "192.0.2.7");
  EXPECT_EQ(source_of("::ffff:192.0.2.7", 64), "192.0.2.7");
}

TEST(SourceAddressTest, IPv6AddressesAreGroupedByThePrefix) {
  EXPECT_EQ(source_of("2001:db8:1:2:aaaa:bbbb:cccc:dddd", 64), "2001:db8:1:2::/64");
  EXPECT_EQ(source_of("2001:db8:1:2::1", 64), source_of("2001:db8:1:2:ffff::9", 64));
  EXPECT_NE(source_of("2001:db8:1:2::1", 64), source_of("2001:db8:1:3::1", 64));
  EXPECT_EQ(source_of("2001:db8:1:2:aaaa::1", 56), "2001:db8:1::/56");
  EXPECT_EQ(source_of("2001:db8::1", 128), "2001:db8::1/128");
  EXPECT_EQ(source_of("2001:db8:ffff::1", 33), "2001:db8:8000::/33");
}

TEST(SourceAddressTest, NoAddressIsASourceOfItsOwnAndOtherTextIsKeptApart) {
  EXPECT_EQ(source_of("", 64), "(no address)");
  EXPECT_EQ(source_of("mail.example.org", 64), "other:mail.example.org");
  EXPECT_EQ(source_of("a b\n", 64), "other:a?b?");
  EXPECT_EQ(source_of(std::string(500, 'x'), 64), "other:" + std::string(64, 'x'));
}

}  // namespace
}  // namespace touchpass
