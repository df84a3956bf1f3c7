#include "web/listen_address.h"

#include <arpa/inet.h>

#include <array>
#include <charconv>

namespace touchpass::web {

namespace {

Error bad(std::string_view text) {
  return Error{Code::invalid_argument,
               "expected HOST:PORT with an IP address (IPv6 in brackets, e.g. [::1]:8443) or "
               "unix:/absolute/path, not \"" +
                   std::string(text) + "\""};
}

bool is_ip_literal(const std::string& host) {
  std::array<unsigned char, 16> buffer{};
  return ::inet_pton(AF_INET, host.c_str(), buffer.data()) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buffer.data()) == 1;
}

}  // namespace

Result<ListenAddress> ListenAddress::parse(std::string_view text) {
  ListenAddress out;
  if (text.starts_with("unix:")) {
    out.kind = Kind::unix_socket;
    out.path = std::string(text.substr(5));
    if (!out.path.is_absolute() || text.size() - 5 >= 108) return bad(text);
    return out;
  }
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad(text);
  std::string_view host = text.substr(0, colon);
  const std::string_view port = text.substr(colon + 1);
  if (host.starts_with('[')) {
    if (!host.ends_with(']')) return bad(text);
    host = host.substr(1, host.size() - 2);
    if (host.find(':') == std::string_view::npos) return bad(text);
  } else if (host.find(':') != std::string_view::npos) {
    return bad(text);
  }
  out.host = std::string(host);
  if (!is_ip_literal(out.host)) return bad(text);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return bad(text);
  }
  out.port = static_cast<std::uint16_t>(value);
  return out;
}

bool ListenAddress::local_only() const {
  return kind == Kind::unix_socket || is_loopback_address(host);
}

std::string ListenAddress::to_string() const {
  if (kind == Kind::unix_socket) return "unix:" + path.string();
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

bool is_loopback_address(std::string_view address) {
  const std::string text(address);
  in_addr v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, text.c_str(), &v6) != 1) return false;
  if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
  return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

}  // namespace touchpass::web
