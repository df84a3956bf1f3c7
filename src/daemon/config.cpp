#include "daemon/config.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <optional>
#include <sstream>

#include "core/config_text.h"
#include "core/utf8.h"

namespace touchpass::daemon {

namespace {

using Setter = ConfigSetter<Config>;

std::optional<std::string> set_path(std::filesystem::path& out, std::string_view v, bool empty_ok) {
  if (v.empty()) {
    if (empty_ok) {
      out.clear();
      return std::nullopt;
    }
    return "a path is required";
  }
  if (v.front() != '/') return "the path must be absolute";
  out = std::filesystem::path(std::string(v));
  return std::nullopt;
}

std::optional<std::string> set_name(std::string& out, std::string_view v) {
  if (v.empty()) return "a name is required";
  for (char c : v) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return "only letters, digits, '-', '_' and '.' are allowed";
  }
  out = std::string(v);
  return std::nullopt;
}

std::optional<std::string> set_int(int& out, std::string_view v, int min, int max) {
  int n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n < min || n > max) {
    return "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  }
  out = n;
  return std::nullopt;
}

std::optional<std::string> set_seconds(std::chrono::seconds& out, std::string_view v, int min,
                                       int max) {
  int n = 0;
  if (auto err = set_int(n, v, min, max)) return *err + " (seconds)";
  out = std::chrono::seconds(n);
  return std::nullopt;
}

std::optional<std::string> set_bool(bool& out, std::string_view v) {
  if (v == "true" || v == "yes") {
    out = true;
  } else if (v == "false" || v == "no") {
    out = false;
  } else {
    return "expected true or false";
  }
  return std::nullopt;
}

const ConfigSetters<Config>& setters() {
  static const ConfigSetters<Config> table = {
      {"socket", [](Config& c, std::string_view v) { return set_path(c.socket, v, false); }},
      {"verify_socket",
       [](Config& c, std::string_view v) { return set_path(c.verify_socket, v, true); }},
      {"store", [](Config& c, std::string_view v) { return set_path(c.store, v, false); }},
      {"pepper", [](Config& c, std::string_view v) { return set_path(c.pepper, v, false); }},
      {"postgresql",
       [](Config& c, std::string_view v) -> std::optional<std::string> {
         for (char ch : v) {
           if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) {
             return "a libpq connection string may not hold control characters";
           }
         }
         c.postgresql = std::string(v);
         return std::nullopt;
       }},
      {"postgresql_password_file",
       [](Config& c, std::string_view v) { return set_path(c.postgresql_password_file, v, true); }},
      {"postgresql_connections",
       [](Config& c, std::string_view v) { return set_int(c.postgresql_connections, v, 1, 64); }},
      {"audit_anchor",
       [](Config& c, std::string_view v) { return set_path(c.audit_anchor, v, true); }},
      {"virtual_token_dir",
       [](Config& c, std::string_view v) { return set_path(c.virtual_token_dir, v, true); }},
      {"rp_id",
       [](Config& c, std::string_view v) -> std::optional<std::string> {
         if (v.empty() || v.size() > 128) return "expected 1 to 128 characters";
         for (char ch : v) {
           if (static_cast<unsigned char>(ch) <= 0x20 || static_cast<unsigned char>(ch) >= 0x7f) {
             return "only printable ASCII without spaces is allowed";
           }
         }
         c.rp_id = std::string(v);
         return std::nullopt;
       }},
      {"web_origin",
       [](Config& c, std::string_view v) -> std::optional<std::string> {
         if (v.empty()) {
           c.web_origin.reset();
           return std::nullopt;
         }
         auto origin = parse_web_origin(v);
         if (!origin.ok()) return origin.error().message;
         c.web_origin = std::move(*origin);
         return std::nullopt;
       }},
      {"usb_tokens", [](Config& c, std::string_view v) { return set_bool(c.usb_tokens, v); }},
      {"admin_group", [](Config& c, std::string_view v) { return set_name(c.admin_group, v); }},
      {"service_group", [](Config& c, std::string_view v) { return set_name(c.service_group, v); }},
      {"token_group", [](Config& c, std::string_view v) { return set_name(c.token_group, v); }},
      {"gateway_group", [](Config& c, std::string_view v) { return set_name(c.gateway_group, v); }},
      {"first_key_pam_service",
       [](Config& c, std::string_view v) -> std::optional<std::string> {
         if (v.empty()) {
           c.first_key_pam_service.clear();
           return std::nullopt;
         }
         return set_name(c.first_key_pam_service, v);
       }},
      {"token_timeout",
       [](Config& c, std::string_view v) { return set_seconds(c.token_timeout, v, 1, 600); }},
      {"pin_timeout",
       [](Config& c, std::string_view v) { return set_seconds(c.pin_timeout, v, 1, 3600); }},
      {"uv",
       [](Config& c, std::string_view v) -> std::optional<std::string> {
         if (v == "required") {
           c.uv = UvPolicy::required;
         } else if (v == "allowed") {
           c.uv = UvPolicy::allowed;
         } else {
           return "expected required or allowed";
         }
         return std::nullopt;
       }},
      {"max_clients",
       [](Config& c, std::string_view v) { return set_int(c.max_clients, v, 2, 65536); }},
      {"max_clients_per_user",
       [](Config& c, std::string_view v) { return set_int(c.max_clients_per_user, v, 1, 65536); }},
      {"reserved_clients",
       [](Config& c, std::string_view v) { return set_int(c.reserved_clients, v, 1, 32768); }},
      {"ipv6_prefix",
       [](Config& c, std::string_view v) { return set_int(c.ipv6_prefix, v, 1, 128); }},
      {"user_failures",
       [](Config& c, std::string_view v) { return set_int(c.user_failures, v, 1, 100000); }},
      {"failure_delay_ms",
       [](Config& c, std::string_view v) -> std::optional<std::string> {
         int ms = 0;
         if (auto err = set_int(ms, v, 0, 5000)) return *err;
         c.failure_delay = std::chrono::milliseconds(ms);
         return std::nullopt;
       }},
      {"lockout_failures",
       [](Config& c, std::string_view v) { return set_int(c.lockout_failures, v, 1, 1000); }},
      {"lockout_seconds",
       [](Config& c, std::string_view v) { return set_seconds(c.lockout, v, 1, 86400); }},
  };
  return table;
}

// Valid UTF-8 without C0 or C1 controls or DEL.
bool is_printable_text(std::string_view text) {
  const auto decoded = decode_utf8(text);
  return decoded && std::none_of(decoded->begin(), decoded->end(), [](char32_t cp) {
           return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
         });
}

constexpr std::size_t kMaxServices = 64;
constexpr std::size_t kMaxServiceDescriptionBytes = 200;

// `service.NAME = description`: one service app passwords may be scoped to.
std::optional<std::string> add_service(Config& c, std::string_view name, std::string_view v) {
  if (const std::string problem = service_name_problem(name); !problem.empty()) return problem;
  if (v.empty() || v.size() > kMaxServiceDescriptionBytes) {
    return "a description of 1 to " + std::to_string(kMaxServiceDescriptionBytes) +
           " bytes is required";
  }
  if (!is_printable_text(v)) return "the description may not hold control characters";
  if (c.services.size() >= kMaxServices) {
    return "at most " + std::to_string(kMaxServices) + " services";
  }
  c.services.push_back({std::string(name), std::string(v)});
  return std::nullopt;
}

const ConfigPrefixSetters<Config>& families() {
  static const ConfigPrefixSetters<Config> table = {{"service.", add_service}};
  return table;
}

}  // namespace

std::vector<std::string_view> config_keys() {
  std::vector<std::string_view> keys = config_keys_of(setters());
  keys.push_back("service.NAME");
  std::sort(keys.begin(), keys.end());
  return keys;
}

Result<Config> parse_config(std::string_view text, std::string_view origin) {
  return apply_config_lines(setters(), text, origin, Config::defaults(), families());
}

Result<Config> load_config(const std::filesystem::path& path, bool missing_ok) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (missing_ok && !std::filesystem::exists(path, ec)) return Config::defaults();
    return Error{Code::io_error, "Cannot read the configuration file " + path.string() + "."};
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > 1024 * 1024) {
    return Error{Code::invalid_argument, path.string() + ": the file is too large."};
  }
  return parse_config(text.str(), path.string());
}

}  // namespace touchpass::daemon
