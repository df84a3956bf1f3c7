// NetworkConnections: open connections per client network (an IPv4 address, an IPv6 /64).
#include "web/network_connections.h"

#include <gtest/gtest.h>

namespace touchpass::web {
namespace {

TEST(NetworkConnections, AnIpv6NetworkIsItsSlash64AndAnIpv4NetworkItsAddress) {
  EXPECT_EQ(NetworkConnections::network_of("2001:db8:1:2::7"),
            NetworkConnections::network_of("2001:db8:1:2:ffff::1"));
  EXPECT_NE(NetworkConnections::network_of("2001:db8:1:2::7"),
            NetworkConnections::network_of("2001:db8:1:3::7"));
  EXPECT_NE(NetworkConnections::network_of("192.0.2.7"),
            NetworkConnections::network_of("192.0.2.8"));
}

TEST(NetworkConnections, ManyAddressesOfOneNetworkShareItsLimit) {
  NetworkConnections connections(3);
  const std::string network = NetworkConnections::network_of("2001:db8::1");
  for (int i = 1; i <= 3; ++i) {
    const std::string address = "2001:db8::" + std::to_string(i);
    ASSERT_TRUE(connections.room_for(NetworkConnections::network_of(address))) << address;
    connections.opened(NetworkConnections::network_of(address));
  }
  EXPECT_FALSE(connections.room_for(NetworkConnections::network_of("2001:db8::99")));
  EXPECT_TRUE(connections.room_for(NetworkConnections::network_of("2001:db8:0:1::1")));
  connections.closed(network);
  EXPECT_TRUE(connections.room_for(network));
  EXPECT_EQ(connections.open(network), 2u);
  connections.closed(network);
  connections.closed(network);
  connections.closed(network);  // one too many: nothing below zero
  EXPECT_EQ(connections.open(network), 0u);
}

TEST(NetworkConnections, NoLimitBehindAProxy) {
  NetworkConnections connections(0);
  for (int i = 0; i < 1000; ++i) connections.opened("unix");
  EXPECT_TRUE(connections.room_for("unix"));
}

}  // namespace
}  // namespace touchpass::web
