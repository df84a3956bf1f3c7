#include "cli/remote_server.h"

#include <algorithm>

#include "cli/format.h"

namespace touchpass::cli {

namespace {

constexpr std::string_view kPinPrefix = "sha256//";
constexpr std::size_t kPinBase64Chars = 44;  // 32 bytes in base64 with its one '=' of padding

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// One "sha256//BASE64" of a 32-byte hash.
bool is_one_pin(std::string_view pin) {
  if (!pin.starts_with(kPinPrefix)) return false;
  const std::string_view hash = pin.substr(kPinPrefix.size());
  return hash.size() == kPinBase64Chars && hash.back() == '=' &&
         std::all_of(hash.begin(), hash.end() - 1, is_base64_char);
}

bool is_pin_list(std::string_view pins) {
  for (;;) {
    const auto end = pins.find(';');
    if (!is_one_pin(pins.substr(0, end))) return false;
    if (end == std::string_view::npos) return true;
    pins.remove_prefix(end + 1);
  }
}

}  // namespace

Result<RemoteServer> parse_remote_server(std::string_view url, std::string_view pin) {
  std::string_view text = url;
  if (text.ends_with('/')) text.remove_suffix(1);
  auto origin = parse_web_origin(text);
  if (!origin.ok()) {
    return Error{Code::invalid_argument, "--server: " + printable(origin.error().message)};
  }
  if (!pin.empty() && !is_pin_list(pin)) {
    return Error{Code::invalid_argument,
                 "--server-pin must be sha256// followed by the base64 SHA-256 of the server's "
                 "public key (44 characters), several separated by ';'."};
  }
  return RemoteServer{std::move(*origin), std::string(pin)};
}

}  // namespace touchpass::cli
