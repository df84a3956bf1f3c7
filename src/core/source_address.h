// Where a verification comes from, as brute-force protection counts it (DESIGN.md §5.4 and
// README "Brute-force protection"): an IPv4 address, an IPv6 network of a configurable prefix
// (one subscriber usually holds a whole /64), or — for a service that gives no address — a
// source of its own.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace touchpass {

// An IP address in binary. An IPv4 address fills the first 4 bytes of `bytes`.
struct IpAddress {
  bool v4 = false;
  std::array<std::uint8_t, 16> bytes{};

  // The address's bit count: 32 or 128.
  int bits() const { return v4 ? 32 : 128; }
  // The textual form (inet_ntop's): "192.0.2.7", "2001:db8::1".
  std::string text() const;
};

// `text` as an address: dotted IPv4 or IPv6 text, as inet_pton reads them. An IPv4-mapped IPv6
// address (::ffff:192.0.2.7) is the IPv4 address it maps. nullopt for anything else (a host
// name, an IPv6 zone such as "%eth0", surrounding spaces).
std::optional<IpAddress> parse_ip_address(std::string_view text);

// The source a remote address belongs to: "192.0.2.7"; "2001:db8:1:2::/64" for an IPv6
// address with `ipv6_prefix` = 64 (an IPv4-mapped IPv6 address counts as IPv4); "(no address)"
// for an empty `remote`; anything else, which is not an address, as "other:" and its first 64
// printable bytes. Precondition: 1 <= ipv6_prefix <= 128.
std::string source_of(std::string_view remote, int ipv6_prefix);

// The source a service gives no address for.
inline constexpr std::string_view kNoAddressSource = "(no address)";

}  // namespace touchpass
