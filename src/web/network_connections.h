// NetworkConnections: touchpass-web's open connections per client network — an IPv4 address,
// or an IPv6 /64, as the rate limiter groups them — so that one network cannot take every
// connection slot by spreading its connections over many addresses. Thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <string>

namespace touchpass::web {

class NetworkConnections {
 public:
  // `per_network`: the most connections one network may hold open; 0 for no limit.
  explicit NetworkConnections(std::size_t per_network) : per_network_(per_network) {}

  // The network of a client `address` (peer_address() text): an IPv4 address as it is, an
  // IPv6 address as its /64 (as touchpassd groups brute-force sources). touchpass-web's rate
  // limit counts requests per network too.
  static std::string network_of(const std::string& address);

  // Whether `network` may open one more connection now (it is not counted yet).
  bool room_for(const std::string& network) const;
  // Counts a connection `network` opened; closed() takes it off again.
  void opened(const std::string& network);
  void closed(const std::string& network);

  // How many connections `network` holds open.
  std::size_t open(const std::string& network) const;

 private:
  std::size_t per_network_;
  mutable std::mutex mu_;
  std::map<std::string, std::size_t> open_;  // only networks with connections open
};

}  // namespace touchpass::web
