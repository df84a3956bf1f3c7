#include "web/client_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstring>
#include <optional>

namespace touchpass::web {

namespace {

// `text` as the canonical text of the IP address it is, or nullopt.
std::optional<std::string> normalized_ip(std::string_view text) {
  if (text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  const std::string input(text);
  std::array<char, INET6_ADDRSTRLEN> out{};
  in_addr v4{};
  if (::inet_pton(AF_INET, input.c_str(), &v4) == 1) {
    return std::string(::inet_ntop(AF_INET, &v4, out.data(), out.size()));
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, input.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_V4MAPPED(&v6)) {
      std::memcpy(&v4, &v6.s6_addr[12], 4);
      return std::string(::inet_ntop(AF_INET, &v4, out.data(), out.size()));
    }
    return std::string(::inet_ntop(AF_INET6, &v6, out.data(), out.size()));
  }
  return std::nullopt;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string peer_address(const sockaddr* peer) {
  if (peer == nullptr) return "unknown";
  std::array<char, INET6_ADDRSTRLEN> out{};
  if (peer->sa_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(peer);
    return ::inet_ntop(AF_INET, &sin->sin_addr, out.data(), out.size());
  }
  if (peer->sa_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(peer);
    if (::inet_ntop(AF_INET6, &sin6->sin6_addr, out.data(), out.size()) == nullptr) {
      return "unknown";
    }
    return normalized_ip(out.data()).value_or("unknown");
  }
  if (peer->sa_family == AF_UNIX) return "unix";
  return "unknown";
}

std::string client_address(std::string_view peer, std::string_view forwarded_for,
                           std::string_view trusted_proxy) {
  if (trusted_proxy.empty() || forwarded_for.empty()) return std::string(peer);
  const bool from_proxy =
      trusted_proxy == "unix" ? peer == "unix" : normalized_ip(trusted_proxy) == peer;
  if (!from_proxy) return std::string(peer);
  const auto comma = forwarded_for.rfind(',');
  const std::string_view last =
      trim(comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1));
  return normalized_ip(last).value_or(std::string(peer));
}

}  // namespace touchpass::web
