#include "web/phone_setup_route.h"

#include <openssl/crypto.h>

#include "core/bytes.h"
#include "core/secret.h"
#include "web/apple_profile.h"
#include "web/daemon_relay.h"

namespace touchpass::web {

namespace {

constexpr std::size_t kTokenBytes = 32;

std::string_view security_name(MailSecurity security) {
  return security == MailSecurity::ssl ? "ssl" : "starttls";
}

ipc::Json server_json(const MailServer& server) {
  return {
      {"host", server.host}, {"port", server.port}, {"security", security_name(server.security)}};
}

Error no_setup() {
  return Error{Code::not_found,
               "This setup link is not valid. Open the whole link from the QR code, or make a new "
               "one with `touchpass show NAME --phone`."};
}

}  // namespace

ipc::Json mail_setup_json(const MailSettings& mail, std::string_view user) {
  const MailAccount account = mail.account_of(user);
  return {{"address", account.address},
          {"login", account.login},
          {"imap", server_json(mail.imap)},
          {"smtp", server_json(mail.smtp)}};
}

PhoneSetupRoute::PhoneSetupRoute(std::optional<MailSettings> mail,
                                 std::filesystem::path daemon_socket,
                                 std::chrono::milliseconds daemon_timeout)
    : mail_(std::move(mail)),
      daemon_socket_(std::move(daemon_socket)),
      daemon_timeout_(daemon_timeout) {}

bool PhoneSetupRoute::owns(std::string_view path) {
  return path == "/setup/profile";
}

Result<std::string> PhoneSetupRoute::profile(std::string_view token,
                                             const std::string& client) const {
  if (!mail_) {
    return Error{Code::not_found,
                 "This server has no mail settings for phones (touchpass-web's web.conf)."};
  }
  auto bytes = from_base64url(token);
  if (!bytes || bytes->size() != kTokenBytes) return no_setup();
  RelayedRequest relayed;
  relayed.request.op = ipc::Op::phone_setup;
  relayed.request.remote = client;
  relayed.secret = SecretBytes::copy_of(*bytes);
  OPENSSL_cleanse(bytes->data(), bytes->size());
  auto answer = relay_to_daemon(daemon_socket_, relayed, daemon_timeout_);
  if (!answer.ok()) return answer.error();
  const ipc::Json& result = answer->result;
  if (!result.is_object() || !result.contains("user") || !result["user"].is_string() ||
      !result.contains("name") || !result["name"].is_string()) {
    return Error{Code::protocol_error, "touchpassd sent a malformed phone setup."};
  }
  const std::string user = result["user"];
  const std::string name = result["name"];
  return apple_mail_profile(*mail_, ProfileAccount{user, name, answer->secret.view(), {}});
}

}  // namespace touchpass::web
