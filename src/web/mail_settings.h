// The mail server's settings that touchpass-web hands to mail clients (issue 14): the domain of
// users' addresses, the IMAP and SMTP servers with their TLS mode, and the login a user gives
// them. Read from web.conf (config.h); written into Thunderbird's autoconfiguration
// (mail_autoconfig.h) and Apple configuration profiles (apple_profile.h). Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace touchpass::web {

// How a client secures its connection: TLS from the first byte, or STARTTLS on a plain port.
// Neither allows an unencrypted login.
enum class MailSecurity { ssl, starttls };

// What a user logs in with: the user name, or the whole address (user@domain).
enum class MailLogin { user, address };

struct MailServer {
  std::string host;  // a DNS name in lower case, or an IP address (IPv6 without brackets)
  std::uint16_t port = 0;
  MailSecurity security = MailSecurity::ssl;
};

// One user's account as a mail client sees it.
struct MailAccount {
  std::string address;  // user@domain
  std::string login;    // the user name, or the address (MailSettings::login)
};

struct MailSettings {
  std::string domain;  // the domain of users' addresses, a DNS name in lower case
  MailServer imap;
  MailServer smtp;
  MailLogin login = MailLogin::user;

  // The address and the login of `user` (a user name, the local part of the address).
  MailAccount account_of(std::string_view user) const;
};

// The standard ports: IMAP 993 (ssl) or 143 (starttls); SMTP 465 (ssl) or 587 (starttls).
std::uint16_t default_imap_port(MailSecurity security);
std::uint16_t default_smtp_port(MailSecurity security);

// A server as web.conf writes it: `host` or `host:port`, the host a DNS name (letters, digits,
// '-' and '.', labels of 1 to 63 characters not starting or ending with '-', 253 at most; no
// trailing dot) or an IP address (IPv6 in brackets: `[2001:db8::1]:993`); the port 1 to 65535
// without leading zeros. The host is returned in lower case, IPv6 without brackets.
struct HostPort {
  std::string host;
  std::optional<std::uint16_t> port;  // nullopt when not written
};

// Error invalid_argument with a sentence saying what is wrong (for "bad value for ...").
Result<HostPort> parse_host_port(std::string_view text);
// A DNS name as above, in lower case (IP addresses are refused). Error invalid_argument.
Result<std::string> parse_mail_domain(std::string_view text);
// `ssl` or `starttls`. Error invalid_argument.
Result<MailSecurity> parse_mail_security(std::string_view text);
// `user` or `address`. Error invalid_argument.
Result<MailLogin> parse_mail_login(std::string_view text);

}  // namespace touchpass::web
