// Where touchpass-web listens: a TCP address and port (`127.0.0.1:8080`, `[::]:8443`) or a Unix
// socket (`unix:/run/touchpass-web/web.sock`). Host names are not accepted: an address is
// never looked up.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.h"

namespace touchpass::web {

struct ListenAddress {
  enum class Kind { tcp, unix_socket };
  Kind kind = Kind::tcp;
  std::string host = "127.0.0.1";  // tcp: an IPv4 or IPv6 literal, without brackets
  std::uint16_t port = 8080;       // tcp: 0 lets the system choose one (tests)
  std::filesystem::path path;      // unix_socket: an absolute path

  // Parses `HOST:PORT` (IPv6 in brackets) or `unix:/absolute/path`.
  // Error invalid_argument with a sentence saying what is expected.
  static Result<ListenAddress> parse(std::string_view text);

  // Whether only this machine can connect: a Unix socket, 127.0.0.0/8, ::1 or ::ffff:127.x.
  bool local_only() const;

  // `HOST:PORT` (brackets around IPv6) or `unix:PATH`, as parse() reads it.
  std::string to_string() const;
};

// Whether `address` (an IPv4 or IPv6 literal) is a loopback address.
bool is_loopback_address(std::string_view address);

}  // namespace touchpass::web
