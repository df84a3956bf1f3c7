#include "web/mail_settings.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace touchpass::web {

namespace {

constexpr std::size_t kMaxDnsName = 253;
constexpr std::size_t kMaxLabel = 63;

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool letter_or_digit(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Whether `name` is a DNS name by the rules in mail_settings.h.
bool dns_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxDnsName) return false;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = std::min(name.find('.', start), name.size());
    const std::string_view label = name.substr(start, end - start);
    if (label.empty() || label.size() > kMaxLabel || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!letter_or_digit(c) && c != '-') return false;
    }
    if (end == name.size()) return true;
    start = end + 1;
  }
}

// Whether `name` has only digits and dots: then it must be an IPv4 address, not a name.
bool looks_numeric(std::string_view name) {
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return c == '.' || (c >= '0' && c <= '9'); });
}

bool ip_address(int family, std::string_view text) {
  std::array<unsigned char, 16> buffer{};
  return ::inet_pton(family, std::string(text).c_str(), buffer.data()) == 1;
}

std::string lowered(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

Error bad(std::string_view text, std::string_view expected) {
  return Error{Code::invalid_argument,
               std::string(expected) + ", not \"" + std::string(text) + "\""};
}

constexpr std::string_view kHostPortForm =
    "expected HOST or HOST:PORT with a DNS name or an IP address (IPv6 in brackets, e.g. "
    "[2001:db8::1]:993) and a port from 1 to 65535";

std::optional<std::uint16_t> port_number(std::string_view text) {
  unsigned n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || text.front() == '0' || ec != std::errc() ||
      end != text.data() + text.size() || n < 1 || n > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(n);
}

}  // namespace

MailAccount MailSettings::account_of(std::string_view user) const {
  MailAccount account;
  account.address = std::string(user) + "@" + domain;
  account.login = login == MailLogin::address ? account.address : std::string(user);
  return account;
}

std::uint16_t default_imap_port(MailSecurity security) {
  return security == MailSecurity::ssl ? 993 : 143;
}

std::uint16_t default_smtp_port(MailSecurity security) {
  return security == MailSecurity::ssl ? 465 : 587;
}

Result<HostPort> parse_host_port(std::string_view text) {
  HostPort out;
  std::string_view host = text;
  std::optional<std::string_view> port;
  if (text.starts_with('[')) {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return bad(text, kHostPortForm);
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad(text, kHostPortForm);
      port = rest.substr(1);
    }
    if (!ip_address(AF_INET6, host)) return bad(text, kHostPortForm);
  } else {
    const std::size_t colon = text.find(':');
    if (colon != std::string_view::npos) {
      host = text.substr(0, colon);
      port = text.substr(colon + 1);  // a second colon makes the port invalid
    }
    const bool valid = looks_numeric(host) ? ip_address(AF_INET, host) : dns_name(host);
    if (!valid) return bad(text, kHostPortForm);
  }
  if (port) {
    out.port = port_number(*port);
    if (!out.port) return bad(text, kHostPortForm);
  }
  out.host = lowered(host);
  return out;
}

Result<std::string> parse_mail_domain(std::string_view text) {
  if (looks_numeric(text) || !dns_name(text)) {
    return bad(text, "expected a DNS name (letters, digits, '-' and '.')");
  }
  return lowered(text);
}

Result<MailSecurity> parse_mail_security(std::string_view text) {
  if (text == "ssl") return MailSecurity::ssl;
  if (text == "starttls") return MailSecurity::starttls;
  return bad(text, "expected ssl or starttls");
}

Result<MailLogin> parse_mail_login(std::string_view text) {
  if (text == "user") return MailLogin::user;
  if (text == "address") return MailLogin::address;
  return bad(text, "expected user or address");
}

}  // namespace touchpass::web
