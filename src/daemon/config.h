// touchpassd's configuration (default /etc/touchpass/touchpassd.conf). The file is lines of
// `key = value`; `#` starts a comment; blank lines are ignored. Unknown keys, repeated keys and
// bad values stop start-up with the file, the line and the reason. Every key is optional.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/service_catalog.h"
#include "core/status.h"
#include "core/web_origin.h"

namespace touchpass::daemon {

enum class UvPolicy {
  required,  // every credential is enrolled with user verification (PIN)
  allowed,   // the user may enroll a presence-only credential (`enroll --no-pin`)
};

struct Config {
  std::filesystem::path socket = "/run/touchpass/touchpassd.sock";
  // The verification socket: only root and the service group can connect to it (mode 0660,
  // group service_group), so no other local user can even queue a connection where the mail
  // server's verifications arrive. Empty: verify.sock beside `socket`.
  std::filesystem::path verify_socket;
  // The SQLite store (sqlite_store.h), unless `postgresql` is set.
  std::filesystem::path store = "/var/lib/touchpass/touchpass.db";
  // The PostgreSQL store several hosts share (postgres_store.h): a libpq connection string,
  // e.g. "host=db.example dbname=touchpass user=touchpass sslmode=verify-full". It may not hold
  // the password, which is read from `postgresql_password_file`. Empty (the default): SQLite.
  std::string postgresql;
  // The PostgreSQL role's password: the file's first line. Only touchpassd's user may read it
  // (a file others may read is refused). Empty: no password (e.g. TLS client certificates).
  std::filesystem::path postgresql_password_file;
  int postgresql_connections = 4;  // PostgreSQL connections for verification
  std::filesystem::path pepper = "/var/lib/touchpass/pepper";
  // Where the audit log's head is anchored outside the database (audit_anchor.h). Empty:
  // audit-head beside the store.
  std::filesystem::path audit_anchor;
  // The FIDO2 relying-party id of every credential. Changing it makes enrolled credentials
  // unusable, so it does not follow the host name.
  std::string rp_id = "touchpass";
  // The origin touchpass-web serves (https://host[:port]); its host is the relying-party id of
  // every key enrolled through the web. Empty (the default): no web gateway, no invitations.
  std::optional<WebOrigin> web_origin;
  // Where virtual tokens' sockets appear; empty (the default): virtual tokens — development
  // devices — are not used.
  std::filesystem::path virtual_token_dir;
  bool usb_tokens = true;
  std::string admin_group = "touchpass-admin";
  std::string service_group = "touchpass-service";
  // The group of the udev rules' token devices: its members may use YubiKey OTP tokens, whose
  // device the daemon cannot check per user (see Service::usable_by).
  std::string token_group = "touchpass";
  // touchpass-web's group: its members relay web users' requests and ceremonies
  // (Service::handle_gateway); they act for nobody without a signed-in session or an invitation.
  std::string gateway_group = "touchpass-gateway";
  // The PAM service with which a web user who has no key yet may enroll a first one with their
  // account password (account_password.h); empty (the default): only invitations.
  std::string first_key_pam_service;
  std::chrono::seconds token_timeout{30};  // waiting for a token to be inserted or touched
  std::chrono::seconds pin_timeout{120};   // waiting for the client to send a PIN
  UvPolicy uv = UvPolicy::required;
  // The services app passwords may be scoped to, in the order of the file (`service.NAME =
  // description` lines); none: default_mail_services(). Use mail_services().
  std::vector<MailService> services;
  // Connections (admission.h): all together; one unprivileged user's; and the share only root
  // and the service group may use.
  int max_clients = 1024;
  int max_clients_per_user = 32;
  int reserved_clients = 256;
  // Brute-force protection of verification (throttle.h), counted per source.
  std::chrono::milliseconds failure_delay{250};  // after a failure; doubles up to 5 s
  int lockout_failures = 10;                     // failures from one source that lock it …
  std::chrono::seconds lockout{900};             // … for this long
  int ipv6_prefix = 64;                          // IPv6 addresses count per network of this size
  int user_failures = 20;  // failures for one user (any source) before its refusals are slowed

  // verify_socket, or its default beside `socket`.
  std::filesystem::path verify_socket_path() const {
    return verify_socket.empty() ? socket.parent_path() / "verify.sock" : verify_socket;
  }

  // The services of `services`, or the default list when the file names none.
  std::vector<MailService> mail_services() const {
    return services.empty() ? default_mail_services() : services;
  }

  // audit_anchor, or its default beside the store.
  std::filesystem::path audit_anchor_path() const {
    return audit_anchor.empty() ? store.parent_path() / "audit-head" : audit_anchor;
  }

  // The configuration a daemon runs with when no file exists at the default path.
  static Config defaults() { return Config{}; }
};

// Parses configuration text; `origin` names the file in error messages.
// Error invalid_argument: "FILE:LINE: reason".
Result<Config> parse_config(std::string_view text, std::string_view origin);

// Every key the configuration accepts, in alphabetical order; a family of keys appears as its
// prefix and a placeholder ("service.NAME").
std::vector<std::string_view> config_keys();

// Reads and parses the file. A missing file is an error unless `missing_ok` (then: defaults).
Result<Config> load_config(const std::filesystem::path& path, bool missing_ok);

}  // namespace touchpass::daemon
