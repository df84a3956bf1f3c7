// The networks an app password may be used from: parsing, the canonical form, matching.
#include "core/source_networks.h"

#include <gtest/gtest.h>

namespace touchpass {
namespace {

std::string canonical(std::string_view text) {
  auto network = parse_source_network(text);
  return network.ok() ? network->text() : "error: " + network.error().message;
}

TEST(SourceNetworksTest, NetworksAreWrittenCanonically) {
  EXPECT_EQ(canonical("192.168.0.0/16"), "192.168.0.0/16");
  EXPECT_EQ(canonical("192.0.2.7"), "192.0.2.7/32");
  EXPECT_EQ(canonical("0.0.0.0/0"), "0.0.0.0/0");
  EXPECT_EQ(canonical("2001:DB8:0:0::/32"), "2001:db8::/32");
  EXPECT_EQ(canonical("2001:db8::1"), "2001:db8::1/128");
  EXPECT_EQ(canonical("::/0"), "::/0");
  EXPECT_EQ(canonical("10.0.0.0/08"), "10.0.0.0/8");
}

TEST(SourceNetworksTest, AnIPv4MappedNetworkIsTheIPv4NetworkItMaps) {
  EXPECT_EQ(canonical("::ffff:192.0.2.0/120"), "192.0.2.0/24");
  EXPECT_EQ(canonical("::ffff:192.0.2.7"), "192.0.2.7/32");
  EXPECT_EQ(canonical("::ffff:0:0/96"), "0.0.0.0/0");
  EXPECT_NE(canonical("::ffff:192.0.2.0/80").find("error:"), std::string::npos);
}

TEST(SourceNetworksTest, HostBitsAreRefusedNamingBothReadings) {
  auto network = parse_source_network("192.168.1.7/24");
  ASSERT_FALSE(network.ok());
  EXPECT_EQ(network.error().code, Code::invalid_argument);
  EXPECT_EQ(network.error().message,
            "\"192.168.1.7/24\" has host bits set: write the network 192.168.1.0/24, or the "
            "single address 192.168.1.7/32.");
  EXPECT_NE(canonical("2001:db8::1/64").find("2001:db8::/64"), std::string::npos);
}

TEST(SourceNetworksTest, WhatIsNotANetworkIsRefusedByName) {
  for (const char* bad : {"", "mail.example.org", "192.0.2.0/33", "2001:db8::/129", "192.0.2.0/",
                          "192.0.2.0/-1", "192.0.2.0/+8", "192.0.2.0/24/8", " 192.0.2.0/24",
                          "192.0.2.256", "fe80::1%eth0/128", "192.0.2.0/1000"}) {
    auto network = parse_source_network(bad);
    ASSERT_FALSE(network.ok()) << bad;
    EXPECT_EQ(network.error().code, Code::invalid_argument) << bad;
    EXPECT_NE(network.error().message.find("\"" + std::string(bad) + "\""), std::string::npos)
        << network.error().message;
  }
  auto long_text = parse_source_network(std::string(300, '1'));
  ASSERT_FALSE(long_text.ok());
  EXPECT_LT(long_text.error().message.size(), 250u);
}

TEST(SourceNetworksTest, AListIsSortedWithoutRepeatsAndBounded) {
  auto list = canonical_source_networks({"2001:db8::/32", "192.0.2.0/24", "::ffff:192.0.2.0/120"});
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(*list, (std::vector<std::string>{"192.0.2.0/24", "2001:db8::/32"}));
  auto bad = canonical_source_networks({"192.0.2.0/24", "nowhere"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("\"nowhere\""), std::string::npos);
  std::vector<std::string> many;
  for (int i = 0; i < 33; ++i) many.push_back("10.0.0." + std::to_string(i));
  EXPECT_FALSE(canonical_source_networks(many).ok());
  many.pop_back();
  EXPECT_TRUE(canonical_source_networks(many).ok());
  EXPECT_TRUE(canonical_source_networks({})->empty());
}

TEST(SourceNetworksTest, MatchingFollowsThePrefix) {
  const std::vector<std::string> networks = {"192.168.0.0/16", "2001:db8::/32", "203.0.113.9/32"};
  EXPECT_TRUE(source_allowed(networks, "192.168.200.1"));
  EXPECT_TRUE(source_allowed(networks, "::ffff:192.168.0.1"));
  EXPECT_FALSE(source_allowed(networks, "192.169.0.1"));
  EXPECT_TRUE(source_allowed(networks, "203.0.113.9"));
  EXPECT_FALSE(source_allowed(networks, "203.0.113.8"));
  EXPECT_TRUE(source_allowed(networks, "2001:db8:ffff::1"));
  EXPECT_FALSE(source_allowed(networks, "2001:db9::1"));
  EXPECT_FALSE(source_allowed(networks, ""));
  EXPECT_FALSE(source_allowed(networks, "mail.example.org"));
  EXPECT_TRUE(source_allowed({}, ""));
  EXPECT_TRUE(source_allowed({"0.0.0.0/0"}, "198.51.100.1"));
  EXPECT_FALSE(source_allowed({"0.0.0.0/0"}, "2001:db8::1"));
  EXPECT_TRUE(source_allowed({"2001:db8:0:2::/63"}, "2001:db8:0:3::5"));
  EXPECT_FALSE(source_allowed({"2001:db8:0:2::/63"}, "2001:db8:0:4::5"));
  // A stored entry that does not parse matches nothing.
  EXPECT_FALSE(source_allowed({"garbage"}, "192.0.2.1"));
}

}  // namespace
}  // namespace touchpass
