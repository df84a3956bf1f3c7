// Who a request comes from, for rate limits and logs: the peer's address, or — only when the
// peer is the configured trusted proxy — the address that proxy put last in X-Forwarded-For.
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>

namespace touchpass::web {

// The address of `peer` as text ("192.0.2.7", "2001:db8::1"; an IPv4-mapped IPv6 address as
// IPv4), "unix" for a Unix socket peer, "unknown" for anything else or nullptr.
std::string peer_address(const sockaddr* peer);

// The client's address: `peer` (as peer_address() writes it), unless `peer` is
// `trusted_proxy` (an IP literal, or "unix"), in which case the last entry of
// `forwarded_for` — the one the proxy appended — if it is an IP literal (normalized);
// otherwise `peer` still. Entries a client wrote itself, further left, are never believed.
std::string client_address(std::string_view peer, std::string_view forwarded_for,
                           std::string_view trusted_proxy);

}  // namespace touchpass::web
