#include "web/network_connections.h"

#include "core/source_address.h"

namespace touchpass::web {

namespace {

// As the rate limiter groups IPv6 clients (server.cpp).
constexpr int kIpv6Prefix = 64;

}  // namespace

std::string NetworkConnections::network_of(const std::string& address) {
  return source_of(address, kIpv6Prefix);
}

bool NetworkConnections::room_for(const std::string& network) const {
  if (per_network_ == 0) return true;
  std::lock_guard lock(mu_);
  const auto it = open_.find(network);
  return it == open_.end() || it->second < per_network_;
}

void NetworkConnections::opened(const std::string& network) {
  std::lock_guard lock(mu_);
  ++open_[network];
}

void NetworkConnections::closed(const std::string& network) {
  std::lock_guard lock(mu_);
  const auto it = open_.find(network);
  if (it == open_.end()) return;
  if (--it->second == 0) open_.erase(it);
}

std::size_t NetworkConnections::open(const std::string& network) const {
  std::lock_guard lock(mu_);
  const auto it = open_.find(network);
  return it == open_.end() ? 0 : it->second;
}

}  // namespace touchpass::web
