#include "web/listen_address.h"

#include <gtest/gtest.h>

#include "web/client_address.h"

namespace touchpass::web {
namespace {

TEST(ListenAddress, ParsesIpv4Ipv6AndUnixSockets) {
  auto v4 = ListenAddress::parse("192.0.2.1:8443");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->kind, ListenAddress::Kind::tcp);
  EXPECT_EQ(v4->host, "192.0.2.1");
  EXPECT_EQ(v4->port, 8443);
  EXPECT_FALSE(v4->local_only());

  auto v6 = ListenAddress::parse("[::1]:0");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 0);
  EXPECT_TRUE(v6->local_only());
  EXPECT_EQ(v6->to_string(), "[::1]:0");

  auto unix_socket = ListenAddress::parse("unix:/run/touchpass-web/web.sock");
  ASSERT_TRUE(unix_socket.ok());
  EXPECT_EQ(unix_socket->kind, ListenAddress::Kind::unix_socket);
  EXPECT_EQ(unix_socket->path, "/run/touchpass-web/web.sock");
  EXPECT_TRUE(unix_socket->local_only());
  EXPECT_EQ(unix_socket->to_string(), "unix:/run/touchpass-web/web.sock");
}

TEST(ListenAddress, RefusesNamesAndMalformedAddresses) {
  for (const char* text : {"", "8080", "localhost:8080", "::1:8080", "[::1]", "[127.0.0.1]:80",
                           "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:-1", "127.0.0.1:70000",
                           "unix:relative.sock", "unix:", "1.2.3.4.5:80", "[::1:80"}) {
    EXPECT_FALSE(ListenAddress::parse(text).ok()) << text;
  }
}

TEST(ListenAddress, KnowsLoopbackAddresses) {
  EXPECT_TRUE(is_loopback_address("127.0.0.1"));
  EXPECT_TRUE(is_loopback_address("127.255.0.9"));
  EXPECT_TRUE(is_loopback_address("::1"));
  EXPECT_TRUE(is_loopback_address("::ffff:127.0.0.1"));
  EXPECT_FALSE(is_loopback_address("0.0.0.0"));
  EXPECT_FALSE(is_loopback_address("::"));
  EXPECT_FALSE(is_loopback_address("128.0.0.1"));
  EXPECT_FALSE(is_loopback_address("::ffff:10.0.0.1"));
  EXPECT_FALSE(is_loopback_address("localhost"));
}

TEST(ClientAddress, IgnoresForwardedForUnlessThePeerIsTheTrustedProxy) {
  EXPECT_EQ(client_address("198.51.100.7", "192.0.2.1", ""), "198.51.100.7");
  EXPECT_EQ(client_address("198.51.100.7", "192.0.2.1", "198.51.100.8"), "198.51.100.7");
  EXPECT_EQ(client_address("198.51.100.8", "192.0.2.1", "198.51.100.8"), "192.0.2.1");
  EXPECT_EQ(client_address("unix", "192.0.2.1", "unix"), "192.0.2.1");
  EXPECT_EQ(client_address("198.51.100.8", "192.0.2.1", "unix"), "198.51.100.8");
}

TEST(ClientAddress, BelievesOnlyTheEntryTheProxyAppended) {
  // A client may send its own X-Forwarded-For; the proxy appends the address it saw.
  EXPECT_EQ(client_address("::1", "203.0.113.9, 192.0.2.1", "::1"), "192.0.2.1");
  EXPECT_EQ(client_address("::1", " 2001:DB8::0:1 ", "::1"), "2001:db8::1");
  EXPECT_EQ(client_address("::1", "::ffff:192.0.2.3", "::1"), "192.0.2.3");
  EXPECT_EQ(client_address("::1", "192.0.2.1, not-an-address", "::1"), "::1");
  EXPECT_EQ(client_address("::1", "", "::1"), "::1");
}

}  // namespace
}  // namespace touchpass::web
