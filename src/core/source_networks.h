// The networks an app password may be used from (issue 14): a grant restricted to a list of
// IPv4/IPv6 networks verifies only for a client address inside one of them, as the service
// reports it (PAM_RHOST). An empty list means from anywhere. The list is not part of the grant
// encoding (DESIGN.md §5.1): it is kept beside the grant and covered by the row's MAC.
//
// A network is written "ADDRESS/PREFIX" or as a bare address (a /32 or /128 of its own). Its
// canonical form, which the store keeps, is inet_ntop's text of the address and the prefix
// always written: "192.0.2.0/24", "2001:db8::/32", "192.0.2.7/32". An IPv4-mapped IPv6 network
// (::ffff:192.0.2.0/120) is the IPv4 network it maps (192.0.2.0/24). A network with host bits
// set (192.168.1.7/24) is refused, not silently widened: the sentence names both readings.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/source_address.h"
#include "core/status.h"

namespace touchpass {

// At most this many networks per app password.
inline constexpr std::size_t kMaxSourceNetworks = 32;

struct SourceNetwork {
  IpAddress base;  // host bits are zero
  int prefix = 0;  // 0..32 for IPv4, 0..128 for IPv6

  // The canonical text: "192.0.2.0/24".
  std::string text() const;
  // True when `address` is inside the network (an IPv4 address is never inside an IPv6
  // network, and the other way round).
  bool contains(const IpAddress& address) const;
};

// One network, as a person or a client writes it. Errors: invalid_argument with a sentence
// naming the text (not an address, a bad prefix, host bits set).
Result<SourceNetwork> parse_source_network(std::string_view text);

// The canonical list of `networks`: each parsed and written canonically, sorted and without
// repeats. Errors: invalid_argument naming the first bad value, or for more than
// kMaxSourceNetworks networks.
Result<std::vector<std::string>> canonical_source_networks(
    const std::vector<std::string>& networks);

// May a grant restricted to `networks` (canonical texts; empty = anywhere) be used from
// `remote` (the client address the service reported)? An empty or unparsable `remote` is
// outside every restriction (fail closed), and so is an entry that does not parse.
bool source_allowed(const std::vector<std::string>& networks, std::string_view remote);

}  // namespace touchpass
