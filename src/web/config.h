// touchpass-web's configuration (default /etc/touchpass/web.conf): lines of `key = value`, `#`
// starts a comment (core/config_text.h). Unknown keys, repeated keys and bad values stop
// start-up with the file, the line and the reason. Every key is optional; web.conf beside this
// file documents each one with its default.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "web/listen_address.h"
#include "web/mail_settings.h"

namespace touchpass::web {

struct Config {
  // Plain HTTP on loopback by default: the mode behind a reverse proxy on the same host.
  ListenAddress listen;
  // PEM files; both or neither. Required unless `listen` is loopback or a Unix socket.
  std::filesystem::path tls_certificate;
  std::filesystem::path tls_key;
  std::filesystem::path daemon_socket = "/run/touchpass/touchpassd.sock";
  std::filesystem::path static_dir = "/usr/share/touchpass/web";
  int max_connections = 256;
  int max_connections_per_address = 16;      // not applied behind a trusted proxy (all are its)
  std::chrono::seconds request_timeout{30};  // a connection idle this long is closed
  std::size_t max_body_bytes = 64 * 1024;
  int rate_limit_per_minute = 120;  // requests per client address (a burst of as many)
  // The reverse proxy whose X-Forwarded-For is believed: an IP address, or `unix` for the peer
  // of the Unix socket `listen` names. Empty: the header is ignored.
  std::string trusted_proxy;
  // The page's origin, `https://host[:port]` as in touchpassd's web_origin: API requests whose
  // Origin header names another site are refused. Empty: not checked (the CSRF token still is).
  std::string origin;
  // How long a relayed request may wait for touchpassd's answer.
  std::chrono::seconds daemon_timeout{10};

  // The mail keys as web.conf writes them (mail_settings.h); parse_config resolves them, with
  // their defaults, into `mail`.
  struct MailKeys {
    std::string domain;            // mail_domain; empty: the default
    std::optional<HostPort> imap;  // imap_server
    std::optional<HostPort> smtp;  // smtp_server
    MailSecurity imap_security = MailSecurity::ssl;
    MailSecurity smtp_security = MailSecurity::ssl;
    MailLogin login = MailLogin::user;  // mail_login
  };
  MailKeys mail_keys;
  // What mail clients are told: mail_domain (default: the origin's host without a leading
  // "mail."), the servers (default: the origin's host) with their ports (default: the standard
  // one for their security, mail_settings.h). nullopt when there is no origin and none of
  // mail_domain, imap_server and smtp_server is set: touchpass-web then offers no mail setup.
  std::optional<MailSettings> mail;

  bool tls() const { return !tls_certificate.empty(); }
};

// Parses configuration text; `origin` names the file in error messages.
// Error invalid_argument: "FILE:LINE: reason", or "FILE: reason" for settings that do not go
// together (plain HTTP on a non-loopback address; only one of the TLS files; a mail key set
// while another has no default without `origin`; ...).
Result<Config> parse_config(std::string_view text, std::string_view origin);

// Every key the configuration accepts, in alphabetical order.
std::vector<std::string_view> config_keys();

// Reads and parses the file. A missing file is an error unless `missing_ok` (then: defaults).
// Error io_error when it cannot be read; invalid_argument as parse_config.
Result<Config> load_config(const std::filesystem::path& path, bool missing_ok);

}  // namespace touchpass::web
