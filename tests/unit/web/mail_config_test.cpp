// The mail keys of web.conf (mail_domain, imap_server, imap_security, smtp_server,
// smtp_security, mail_login): their defaults from origin, their validation, and the account
// a user gets (mail_settings.h).
#include <gtest/gtest.h>

#include "web/config.h"
#include "web/mail_settings.h"

namespace touchpass::web {
namespace {

MailSettings mail_of(const std::string& text) {
  auto c = parse_config(text, "web.conf");
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
  if (!c.ok() || !c->mail) {
    ADD_FAILURE() << "no mail settings for:\n" << text;
    return {};
  }
  return *c->mail;
}

TEST(WebMailConfig, WithoutOriginOrServersThereIsNoMailSetup) {
  auto c = parse_config("", "web.conf");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->mail.has_value());
  // The security and login keys alone name no server.
  c = parse_config("imap_security = starttls\nmail_login = address\n", "web.conf");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_FALSE(c->mail.has_value());
}

TEST(WebMailConfig, DefaultsComeFromTheOrigin) {
  const MailSettings m = mail_of("origin = https://Mail.Example.ORG\n");
  EXPECT_EQ(m.domain, "example.org");
  EXPECT_EQ(m.imap.host, "mail.example.org");
  EXPECT_EQ(m.imap.port, 993);
  EXPECT_EQ(m.imap.security, MailSecurity::ssl);
  EXPECT_EQ(m.smtp.host, "mail.example.org");
  EXPECT_EQ(m.smtp.port, 465);
  EXPECT_EQ(m.smtp.security, MailSecurity::ssl);
  EXPECT_EQ(m.login, MailLogin::user);
  // Only a leading "mail." is dropped; the origin's port is not the mail servers'.
  const MailSettings other = mail_of("origin = https://web.example.org:8443\n");
  EXPECT_EQ(other.domain, "web.example.org");
  EXPECT_EQ(other.imap.host, "web.example.org");
  EXPECT_EQ(other.imap.port, 993);
}

TEST(WebMailConfig, StarttlsDefaultsToTheSubmissionAndImapPorts) {
  const MailSettings m = mail_of(
      "origin = https://mail.example.org\nimap_security = starttls\nsmtp_security = starttls\n");
  EXPECT_EQ(m.imap.port, 143);
  EXPECT_EQ(m.imap.security, MailSecurity::starttls);
  EXPECT_EQ(m.smtp.port, 587);
  EXPECT_EQ(m.smtp.security, MailSecurity::starttls);
}

TEST(WebMailConfig, ParsesEveryMailKey) {
  // Set before the security keys: the default port follows the security wherever it is set.
  const MailSettings m = mail_of(
      "mail_domain = Example.NET\n"
      "imap_server = IMAP.example.net:10993\n"
      "smtp_server = [2001:DB8::25]\n"
      "smtp_security = starttls\n"
      "imap_security = ssl\n"
      "mail_login = address\n");
  EXPECT_EQ(m.domain, "example.net");
  EXPECT_EQ(m.imap.host, "imap.example.net");
  EXPECT_EQ(m.imap.port, 10993);
  EXPECT_EQ(m.imap.security, MailSecurity::ssl);
  EXPECT_EQ(m.smtp.host, "2001:db8::25");
  EXPECT_EQ(m.smtp.port, 587);
  EXPECT_EQ(m.smtp.security, MailSecurity::starttls);
  EXPECT_EQ(m.login, MailLogin::address);

  const MailSettings ip =
      mail_of("mail_domain = example.net\nimap_server = 192.0.2.7:1\nsmtp_server = [::1]:65535\n");
  EXPECT_EQ(ip.imap.host, "192.0.2.7");
  EXPECT_EQ(ip.imap.port, 1);
  EXPECT_EQ(ip.smtp.host, "::1");
  EXPECT_EQ(ip.smtp.port, 65535);
}

TEST(WebMailConfig, TheAccountOfAUserFollowsMailLogin) {
  MailSettings m = mail_of("origin = https://mail.example.org\n");
  MailAccount a = m.account_of("alice");
  EXPECT_EQ(a.address, "alice@example.org");
  EXPECT_EQ(a.login, "alice");
  m.login = MailLogin::address;
  a = m.account_of("alice");
  EXPECT_EQ(a.address, "alice@example.org");
  EXPECT_EQ(a.login, "alice@example.org");
}

struct BadMail {
  const char* text;
  const char* expected;  // the whole error message
};

class WebMailConfigRefuses : public ::testing::TestWithParam<BadMail> {};

TEST_P(WebMailConfigRefuses, WithTheFileTheLineAndTheReason) {
  auto c = parse_config(GetParam().text, "web.conf");
  ASSERT_FALSE(c.ok()) << GetParam().text;
  EXPECT_EQ(c.code(), Code::invalid_argument);
  EXPECT_EQ(c.error().message, GetParam().expected);
}

constexpr const char* kHostPort =
    "expected HOST or HOST:PORT with a DNS name or an IP address (IPv6 in brackets, e.g. "
    "[2001:db8::1]:993) and a port from 1 to 65535";

std::string bad_server(int line, const char* key, const char* value) {
  return "web.conf:" + std::to_string(line) + ": bad value for \"" + key + "\": " + kHostPort +
         ", not \"" + value + "\"";
}

// The messages built at run time live as long as the test program.
const char* keep(std::string text) {
  static std::vector<std::unique_ptr<std::string>> kept;
  kept.push_back(std::make_unique<std::string>(std::move(text)));
  return kept.back()->c_str();
}

INSTANTIATE_TEST_SUITE_P(
    BadValues, WebMailConfigRefuses,
    ::testing::Values(
        BadMail{"imap_server = mail example.org\n",
                keep(bad_server(1, "imap_server", "mail example.org"))},
        BadMail{"imap_server = mail.example.org:0\n",
                keep(bad_server(1, "imap_server", "mail.example.org:0"))},
        BadMail{"imap_server = mail.example.org:65536\n",
                keep(bad_server(1, "imap_server", "mail.example.org:65536"))},
        BadMail{"imap_server = mail.example.org:0993\n",
                keep(bad_server(1, "imap_server", "mail.example.org:0993"))},
        BadMail{"imap_server = mail.example.org:\n",
                keep(bad_server(1, "imap_server", "mail.example.org:"))},
        BadMail{"smtp_server = 2001:db8::1\n", keep(bad_server(1, "smtp_server", "2001:db8::1"))},
        BadMail{"smtp_server = [2001:db8::1\n", keep(bad_server(1, "smtp_server", "[2001:db8::1"))},
        BadMail{"smtp_server = [mail.example.org]:25\n",
                keep(bad_server(1, "smtp_server", "[mail.example.org]:25"))},
        BadMail{"smtp_server = 192.0.2.300\n", keep(bad_server(1, "smtp_server", "192.0.2.300"))},
        BadMail{"smtp_server = -mail.example.org\n",
                keep(bad_server(1, "smtp_server", "-mail.example.org"))},
        BadMail{"smtp_server = mail..example.org\n",
                keep(bad_server(1, "smtp_server", "mail..example.org"))},
        BadMail{"smtp_server = mail.example.org.\n",
                keep(bad_server(1, "smtp_server", "mail.example.org."))},
        BadMail{"smtp_server = mail_1.example.org\n",
                keep(bad_server(1, "smtp_server", "mail_1.example.org"))},
        BadMail{"smtp_server = mail.example.org\x01\n",
                keep(bad_server(1, "smtp_server", "mail.example.org\x01"))},
        BadMail{"smtp_server =\n", keep(bad_server(1, "smtp_server", ""))},
        BadMail{"imap_server = a.example\nimap_server = b.example\n",
                "web.conf:2: \"imap_server\" is set twice"},
        BadMail{"mail_domain = 192.0.2.1\n",
                "web.conf:1: bad value for \"mail_domain\": expected a DNS name (letters, "
                "digits, '-' and '.'), not \"192.0.2.1\""},
        BadMail{"mail_domain = user@example.org\n",
                "web.conf:1: bad value for \"mail_domain\": expected a DNS name (letters, "
                "digits, '-' and '.'), not \"user@example.org\""},
        BadMail{"\nimap_security = tls\n",
                "web.conf:2: bad value for \"imap_security\": expected ssl or starttls, not "
                "\"tls\""},
        BadMail{"smtp_security = SSL\n",
                "web.conf:1: bad value for \"smtp_security\": expected ssl or starttls, not "
                "\"SSL\""},
        BadMail{"mail_login = email\n",
                "web.conf:1: bad value for \"mail_login\": expected user or address, not "
                "\"email\""},
        // Without origin, a server or the domain alone leaves the others without a default.
        BadMail{"imap_server = mail.example.org\nsmtp_server = mail.example.org\n",
                "web.conf: mail_domain has no default without origin: set it, or set origin."},
        BadMail{"mail_domain = example.org\nimap_server = mail.example.org\n",
                "web.conf: smtp_server has no default without origin: set it, or set origin."},
        BadMail{"origin = https://192.0.2.1\n",
                "web.conf: the host of origin is no mail domain (expected a DNS name (letters, "
                "digits, '-' and '.'), not \"192.0.2.1\"): set mail_domain."}));

}  // namespace
}  // namespace touchpass::web
