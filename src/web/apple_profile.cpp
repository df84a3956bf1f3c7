#include "web/apple_profile.h"

#include <array>
#include <cstdio>

#include "core/random.h"
#include "web/xml_writer.h"

namespace touchpass::web {

namespace {

// Room for the profile's fixed text, the names and hosts, and the password escaped (at most 6
// bytes for each of its bytes, as &quot;).
constexpr std::size_t kFixedSize = 8192;
constexpr std::size_t kEscapedGrowth = 6;

// A random version 4 UUID in upper case, as Apple's profiles write them.
Result<std::string> random_uuid() {
  std::array<std::uint8_t, 16> b{};
  if (Status s = fill_random(b); !s.ok()) return s.error();
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);  // the RFC 4122 variant
  char text[37];
  std::snprintf(text, sizeof text,
                "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return std::string(text);
}

// "example.org" -> "org.example".
std::string reversed_domain(std::string_view domain) {
  std::string out;
  while (!domain.empty()) {
    const std::size_t dot = domain.rfind('.');
    const std::string_view label = dot == std::string_view::npos ? domain : domain.substr(dot + 1);
    if (!out.empty()) out += '.';
    out += label;
    domain = dot == std::string_view::npos ? std::string_view() : domain.substr(0, dot);
  }
  return out;
}

// The plist's pieces: a <key> and its value.
void string_entry(XmlWriter& w, const char* key, std::string_view value, std::string_view what) {
  w.text_element("key", key, "key");
  w.text_element("string", value, what);
}

void integer_entry(XmlWriter& w, const char* key, int value) {
  w.text_element("key", key, "key");
  w.text_element("integer", std::to_string(value), "number");
}

void bool_entry(XmlWriter& w, const char* key, bool value) {
  w.text_element("key", key, "key");
  w.start(value ? "true" : "false");
  w.end();
}

// One server's keys, `prefix` "Incoming" or "Outgoing".
void server_entries(XmlWriter& w, const std::string& prefix, const MailServer& server,
                    const std::string& login) {
  string_entry(w, (prefix + "MailServerAuthentication").c_str(), "EmailAuthPassword", "auth");
  string_entry(w, (prefix + "MailServerHostName").c_str(), server.host, "server host");
  integer_entry(w, (prefix + "MailServerPortNumber").c_str(), server.port);
  bool_entry(w, (prefix + "MailServerUseSSL").c_str(), true);
  string_entry(w, (prefix + "MailServerUsername").c_str(), login, "login");
}

}  // namespace

Result<std::string> apple_mail_profile(const MailSettings& mail, const ProfileAccount& account) {
  if (account.user.empty() || account.password.empty()) {
    return Error{Code::invalid_argument, "A mail profile needs a user name and a password."};
  }
  auto profile_uuid = random_uuid();
  if (!profile_uuid.ok()) return profile_uuid.error();
  auto account_uuid = random_uuid();
  if (!account_uuid.ok()) return account_uuid.error();
  const MailAccount who = mail.account_of(account.user);
  const std::string identifier =
      reversed_domain(mail.domain) + ".touchpass.mail." + std::string(account.user);

  auto w = XmlWriter::create(kFixedSize + kEscapedGrowth * account.password.size() +
                             2 * kEscapedGrowth *
                                 (account.user.size() + account.password_name.size() +
                                  account.display_name.size() + mail.domain.size()));
  if (!w.ok()) return w.error();
  w->doctype("plist", "-//Apple//DTD PLIST 1.0//EN",
             "http://www.apple.com/DTDs/PropertyList-1.0.dtd");
  w->start("plist");
  w->attribute("version", "1.0", "version");
  w->start("dict");

  w->text_element("key", "PayloadContent", "key");
  w->start("array");
  w->start("dict");
  string_entry(*w, "EmailAccountDescription", who.address, "address");
  string_entry(*w, "EmailAccountName",
               account.display_name.empty() ? account.user : account.display_name, "display name");
  string_entry(*w, "EmailAccountType", "EmailTypeIMAP", "account type");
  string_entry(*w, "EmailAddress", who.address, "address");
  server_entries(*w, "Incoming", mail.imap, who.login);
  w->text_element("key", "IncomingPassword", "key");
  w->secret_element("string", account.password, "password");
  server_entries(*w, "Outgoing", mail.smtp, who.login);
  bool_entry(*w, "OutgoingPasswordSameAsIncomingPassword", true);
  string_entry(*w, "PayloadDisplayName", who.address, "address");
  string_entry(*w, "PayloadIdentifier", identifier + ".account", "identifier");
  string_entry(*w, "PayloadType", "com.apple.mail.managed", "payload type");
  string_entry(*w, "PayloadUUID", *account_uuid, "UUID");
  integer_entry(*w, "PayloadVersion", 1);
  w->end();  // dict
  w->end();  // array

  string_entry(*w, "PayloadDescription",
               "Sets up the mail account " + who.address + " with the app password \"" +
                   std::string(account.password_name) + "\".",
               "password name");
  string_entry(*w, "PayloadDisplayName", "Mail: " + who.address, "address");
  string_entry(*w, "PayloadIdentifier", identifier, "identifier");
  bool_entry(*w, "PayloadRemovalDisallowed", false);
  string_entry(*w, "PayloadType", "Configuration", "payload type");
  string_entry(*w, "PayloadUUID", *profile_uuid, "UUID");
  integer_entry(*w, "PayloadVersion", 1);
  return w->finish();
}

}  // namespace touchpass::web
