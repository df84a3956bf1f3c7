#include "core/source_address.h"

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>

namespace touchpass {

std::string source_of(std::string_view remote, int ipv6_prefix) {
  if (remote.empty()) return std::string(kNoAddressSource);
  char text[INET6_ADDRSTRLEN + 8] = {};
  if (remote.size() < INET6_ADDRSTRLEN) {
    const std::string address(remote);
    in_addr v4{};
    if (::inet_pton(AF_INET, address.c_str(), &v4) == 1) {
      ::inet_ntop(AF_INET, &v4, text, sizeof text);
      return text;
    }
    in6_addr v6{};
    if (::inet_pton(AF_INET6, address.c_str(), &v6) == 1) {
      if (IN6_IS_ADDR_V4MAPPED(&v6)) {
        std::memcpy(&v4, v6.s6_addr + 12, 4);
        ::inet_ntop(AF_INET, &v4, text, sizeof text);
        return text;
      }
      for (int bit = ipv6_prefix; bit < 128; ++bit) {
        v6.s6_addr[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
      }
      ::inet_ntop(AF_INET6, &v6, text, sizeof text);
      return std::string(text) + "/" + std::to_string(ipv6_prefix);
    }
  }
  std::string other = "other:";
  for (char c : remote.substr(0, 64)) {
    const auto u = static_cast<unsigned char>(c);
    other += u >= 0x21 && u < 0x7f ? c : '?';
  }
  return other;
}

}  // namespace touchpass
