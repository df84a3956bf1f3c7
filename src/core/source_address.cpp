#include "core/source_address.h"

#include <arpa/inet.h>

#include <cstring>

namespace touchpass {

std::string IpAddress::text() const {
  char out[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(v4 ? AF_INET : AF_INET6, bytes.data(), out, sizeof out);
  return out;
}

std::optional<IpAddress> parse_ip_address(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string address(text);
  IpAddress out;
  in_addr v4{};
  if (::inet_pton(AF_INET, address.c_str(), &v4) == 1) {
    out.v4 = true;
    std::memcpy(out.bytes.data(), &v4, 4);
    return out;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, address.c_str(), &v6) != 1) return std::nullopt;
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {
    out.v4 = true;
    std::memcpy(out.bytes.data(), v6.s6_addr + 12, 4);
    return out;
  }
  std::memcpy(out.bytes.data(), v6.s6_addr, 16);
  return out;
}

std::string source_of(std::string_view remote, int ipv6_prefix) {
  if (remote.empty()) return std::string(kNoAddressSource);
  if (auto address = parse_ip_address(remote)) {
    if (address->v4) return address->text();
    for (int bit = ipv6_prefix; bit < 128; ++bit) {
      address->bytes[static_cast<std::size_t>(bit / 8)] &=
          static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
    }
    return address->text() + "/" + std::to_string(ipv6_prefix);
  }
  std::string other = "other:";
  for (char c : remote.substr(0, 64)) {
    const auto u = static_cast<unsigned char>(c);
    other += u >= 0x21 && u < 0x7f ? c : '?';
  }
  return other;
}

}  // namespace touchpass
