#include "web/config.h"

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <optional>

#include "core/config_text.h"
#include "core/web_origin.h"
#include "web/small_file.h"

namespace touchpass::web {

namespace {

constexpr std::size_t kMaxConfigBytes = 1024 * 1024;

std::optional<std::string> absolute_path(std::filesystem::path& out, std::string_view v) {
  if (v.empty() || v.front() != '/') return "expected an absolute path";
  out = std::filesystem::path(std::string(v));
  return std::nullopt;
}

template <class Int>
std::optional<std::string> whole_number(Int& out, std::string_view v, Int min, Int max) {
  Int n{};
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n < min || n > max) {
    return "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  }
  out = n;
  return std::nullopt;
}

std::optional<std::string> proxy(std::string& out, std::string_view v) {
  std::array<unsigned char, 16> buffer{};
  const std::string text(v);
  if (text != "unix" && ::inet_pton(AF_INET, text.c_str(), buffer.data()) != 1 &&
      ::inet_pton(AF_INET6, text.c_str(), buffer.data()) != 1) {
    return "expected an IP address or unix";
  }
  out = text;
  return std::nullopt;
}

// A setter for one of the mail keys: `parse` turns the value into `out`.
template <class T, class Parse>
std::optional<std::string> mail_key(T& out, std::string_view v, Parse parse) {
  auto parsed = parse(v);
  if (!parsed.ok()) return parsed.error().message;
  out = std::move(*parsed);
  return std::nullopt;
}

const ConfigSetters<Config>& setters() {
  static const ConfigSetters<Config> table = {
      {"listen",
       [](Config& c, std::string_view v) -> std::optional<std::string> {
         auto address = ListenAddress::parse(v);
         if (!address.ok()) return address.error().message;
         c.listen = *address;
         return std::nullopt;
       }},
      {"tls_certificate",
       [](Config& c, std::string_view v) { return absolute_path(c.tls_certificate, v); }},
      {"tls_key", [](Config& c, std::string_view v) { return absolute_path(c.tls_key, v); }},
      {"daemon_socket",
       [](Config& c, std::string_view v) { return absolute_path(c.daemon_socket, v); }},
      {"static_dir", [](Config& c, std::string_view v) { return absolute_path(c.static_dir, v); }},
      {"max_connections",
       [](Config& c, std::string_view v) { return whole_number(c.max_connections, v, 2, 65536); }},
      {"max_connections_per_address",
       [](Config& c, std::string_view v) {
         return whole_number(c.max_connections_per_address, v, 1, 65536);
       }},
      {"request_timeout_seconds",
       [](Config& c, std::string_view v) -> std::optional<std::string> {
         int seconds = 0;
         if (auto reason = whole_number(seconds, v, 1, 3600)) return *reason;
         c.request_timeout = std::chrono::seconds(seconds);
         return std::nullopt;
       }},
      {"max_body_bytes",
       [](Config& c, std::string_view v) {
         return whole_number<std::size_t>(c.max_body_bytes, v, 1, 1024 * 1024);
       }},
      {"rate_limit_per_minute",
       [](Config& c, std::string_view v) {
         return whole_number(c.rate_limit_per_minute, v, 1, 1000000);
       }},
      {"trusted_proxy", [](Config& c, std::string_view v) { return proxy(c.trusted_proxy, v); }},
      {"origin",
       [](Config& c, std::string_view v) -> std::optional<std::string> {
         auto parsed = parse_web_origin(v);
         if (!parsed.ok()) return parsed.error().message;
         c.origin = parsed->origin;
         return std::nullopt;
       }},
      {"daemon_timeout_seconds",
       [](Config& c, std::string_view v) -> std::optional<std::string> {
         int seconds = 0;
         if (auto reason = whole_number(seconds, v, 1, 300)) return *reason;
         c.daemon_timeout = std::chrono::seconds(seconds);
         return std::nullopt;
       }},
      {"mail_domain",
       [](Config& c, std::string_view v) {
         return mail_key(c.mail_keys.domain, v, parse_mail_domain);
       }},
      {"imap_server",
       [](Config& c, std::string_view v) {
         return mail_key(c.mail_keys.imap, v, parse_host_port);
       }},
      {"imap_security",
       [](Config& c, std::string_view v) {
         return mail_key(c.mail_keys.imap_security, v, parse_mail_security);
       }},
      {"smtp_server",
       [](Config& c, std::string_view v) {
         return mail_key(c.mail_keys.smtp, v, parse_host_port);
       }},
      {"smtp_security",
       [](Config& c, std::string_view v) {
         return mail_key(c.mail_keys.smtp_security, v, parse_mail_security);
       }},
      {"mail_login",
       [](Config& c, std::string_view v) {
         return mail_key(c.mail_keys.login, v, parse_mail_login);
       }},
  };
  return table;
}

// The settings that must go together.
Status check_combination(const Config& c, std::string_view origin) {
  const auto fail = [&](const std::string& reason) {
    return Status(Code::invalid_argument, std::string(origin) + ": " + reason);
  };
  if (c.tls_certificate.empty() != c.tls_key.empty()) {
    return fail("tls_certificate and tls_key go together: set both, or neither.");
  }
  if (!c.tls() && !c.listen.local_only()) {
    return fail("listen = " + c.listen.to_string() +
                " is reachable from other machines, and touchpass-web never serves plain HTTP "
                "there: set tls_certificate and tls_key, or listen on a loopback address or a "
                "Unix socket behind a reverse proxy that serves HTTPS.");
  }
  if (c.trusted_proxy == "unix" && c.listen.kind != ListenAddress::Kind::unix_socket) {
    return fail("trusted_proxy = unix needs listen = unix:/path.");
  }
  if (c.max_connections_per_address > c.max_connections) {
    return fail("max_connections_per_address is larger than max_connections.");
  }
  return {};
}

// The mail settings with their defaults (Config::mail), or nullopt when there are none.
Result<std::optional<MailSettings>> resolve_mail(const Config& c, std::string_view origin) {
  const auto fail = [&](const std::string& reason) {
    return Error(Code::invalid_argument, std::string(origin) + ": " + reason);
  };
  const Config::MailKeys& keys = c.mail_keys;
  std::string origin_host;
  if (!c.origin.empty()) {
    auto parsed = parse_web_origin(c.origin);
    if (!parsed.ok()) return parsed.error();
    origin_host = parsed->host;
  }
  if (origin_host.empty() && keys.domain.empty() && !keys.imap && !keys.smtp) {
    return std::optional<MailSettings>();
  }
  for (const auto& [key, set] : {std::pair{"mail_domain", !keys.domain.empty()},
                                 std::pair{"imap_server", keys.imap.has_value()},
                                 std::pair{"smtp_server", keys.smtp.has_value()}}) {
    if (!set && origin_host.empty()) {
      return fail(std::string(key) + " has no default without origin: set it, or set origin.");
    }
  }
  MailSettings mail;
  mail.domain = keys.domain;
  if (mail.domain.empty()) {
    constexpr std::string_view kMailPrefix = "mail.";
    const std::string_view host(origin_host);
    auto domain =
        parse_mail_domain(host.starts_with(kMailPrefix) ? host.substr(kMailPrefix.size()) : host);
    if (!domain.ok()) {
      return fail("the host of origin is no mail domain (" + domain.error().message +
                  "): set mail_domain.");
    }
    mail.domain = *domain;
  }
  mail.imap = {
      keys.imap ? keys.imap->host : origin_host,
      keys.imap && keys.imap->port ? *keys.imap->port : default_imap_port(keys.imap_security),
      keys.imap_security};
  mail.smtp = {
      keys.smtp ? keys.smtp->host : origin_host,
      keys.smtp && keys.smtp->port ? *keys.smtp->port : default_smtp_port(keys.smtp_security),
      keys.smtp_security};
  mail.login = keys.login;
  return std::optional<MailSettings>(std::move(mail));
}

}  // namespace

std::vector<std::string_view> config_keys() {
  return config_keys_of(setters());
}

Result<Config> parse_config(std::string_view text, std::string_view origin) {
  auto config = apply_config_lines(setters(), text, origin);
  if (!config.ok()) return config;
  if (Status s = check_combination(*config, origin); !s.ok()) return s.error();
  auto mail = resolve_mail(*config, origin);
  if (!mail.ok()) return mail.error();
  config->mail = std::move(*mail);
  return config;
}

Result<Config> load_config(const std::filesystem::path& path, bool missing_ok) {
  std::error_code ec;
  if (missing_ok && !std::filesystem::exists(path, ec) && !ec) return Config{};
  auto text = read_small_file(path, kMaxConfigBytes);
  if (!text.ok()) {
    return Error{text.code(), "The configuration file cannot be used: " + text.error().message};
  }
  return parse_config(text->view().substr(0, text->size() - 1), path.string());
}

}  // namespace touchpass::web
