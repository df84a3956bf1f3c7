#include "core/web_origin.h"

#include <charconv>

namespace touchpass {

namespace {

constexpr std::string_view kScheme = "https://";
constexpr std::size_t kMaxHost = 253;
constexpr std::size_t kMaxLabel = 63;

Error bad(std::string_view text, std::string_view why) {
  return Error{Code::invalid_argument,
               "\"" + std::string(text) +
                   "\" is not a web origin like https://mail.example.org: " + std::string(why)};
}

bool host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

}  // namespace

Result<WebOrigin> parse_web_origin(std::string_view text) {
  if (text.size() < kScheme.size() || text.substr(0, kScheme.size()) != kScheme) {
    return bad(text, "it must start with https://.");
  }
  std::string_view rest = text.substr(kScheme.size());
  std::string_view port;
  if (const auto colon = rest.find(':'); colon != std::string_view::npos) {
    port = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
  }
  std::string host;
  for (char c : rest) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (!host_char(c)) return bad(text, "the host may hold only letters, digits, '-' and '.'.");
    host.push_back(c);
  }
  if (host.empty() || host.size() > kMaxHost) return bad(text, "the host is empty or too long.");
  std::size_t label = 0;
  for (std::size_t i = 0; i <= host.size(); ++i) {
    if (i == host.size() || host[i] == '.') {
      if (label == 0 || label > kMaxLabel) return bad(text, "a part of the host is empty.");
      label = 0;
    } else {
      ++label;
    }
  }
  WebOrigin out{std::string(kScheme) + host, host};
  if (!port.empty() || text.back() == ':') {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || port.empty() || port[0] == '0' ||
        value > 65535) {
      return bad(text, "the port must be a number from 1 to 65535, and nothing may follow it.");
    }
    if (value != 443) out.origin += ":" + std::to_string(value);
  }
  return out;
}

}  // namespace touchpass
