// Thunderbird's autoconfiguration (mail_autoconfig.h), parsed back with libxml2, and the route
// that serves it (autoconfig_route.h): which paths it owns and which addresses it answers.
#include "web/mail_autoconfig.h"

#include <gtest/gtest.h>

#include "example_mail.h"
#include "parsed_xml.h"
#include "web/autoconfig_route.h"

namespace touchpass::web {
namespace {

using testing::example_mail;
using testing::ParsedXml;

// An address, not a name: the document must carry it as it is.
constexpr const char* kSmtpHost = "2001:db8::25";
constexpr const char* kProvider = "/clientConfig/emailProvider";

TEST(MailAutoconfig, DescribesBothServers) {
  auto document = mail_autoconfig(example_mail(kSmtpHost));
  ASSERT_TRUE(document.ok()) << document.error().message;
  ParsedXml xml(*document);
  ASSERT_TRUE(xml.ok()) << *document;
  EXPECT_EQ(xml.one("/clientConfig/@version"), "1.1");
  EXPECT_EQ(xml.one(std::string(kProvider) + "/@id"), "example.org");
  EXPECT_EQ(xml.one(std::string(kProvider) + "/domain"), "example.org");
  EXPECT_EQ(xml.one(std::string(kProvider) + "/displayName"), "Mail at example.org");
  EXPECT_EQ(xml.one(std::string(kProvider) + "/displayShortName"), "example.org");

  const std::string in = std::string(kProvider) + "/incomingServer";
  EXPECT_EQ(xml.count(in), 1u);
  EXPECT_EQ(xml.one(in + "/@type"), "imap");
  EXPECT_EQ(xml.one(in + "/hostname"), "imap.example.org");
  EXPECT_EQ(xml.one(in + "/port"), "993");
  EXPECT_EQ(xml.one(in + "/socketType"), "SSL");
  EXPECT_EQ(xml.one(in + "/username"), "%EMAILLOCALPART%");
  EXPECT_EQ(xml.one(in + "/authentication"), "password-cleartext");

  const std::string out = std::string(kProvider) + "/outgoingServer";
  EXPECT_EQ(xml.count(out), 1u);
  EXPECT_EQ(xml.one(out + "/@type"), "smtp");
  EXPECT_EQ(xml.one(out + "/hostname"), kSmtpHost);
  EXPECT_EQ(xml.one(out + "/port"), "587");
  EXPECT_EQ(xml.one(out + "/socketType"), "STARTTLS");
  EXPECT_EQ(xml.one(out + "/username"), "%EMAILLOCALPART%");
  EXPECT_EQ(xml.one(out + "/authentication"), "password-cleartext");
}

TEST(MailAutoconfig, TheWholeAddressIsTheLoginWhenMailLoginSaysSo) {
  MailSettings mail = example_mail(kSmtpHost);
  mail.login = MailLogin::address;
  mail.imap.security = MailSecurity::starttls;
  mail.imap.port = 143;
  auto document = mail_autoconfig(mail);
  ASSERT_TRUE(document.ok());
  ParsedXml xml(*document);
  ASSERT_TRUE(xml.ok());
  EXPECT_EQ(xml.all("//username"), (std::vector<std::string>{"%EMAILADDRESS%", "%EMAILADDRESS%"}));
  EXPECT_EQ(xml.one(std::string(kProvider) + "/incomingServer/socketType"), "STARTTLS");
  EXPECT_EQ(xml.one(std::string(kProvider) + "/incomingServer/port"), "143");
}

TEST(AutoconfigRoute, OwnsTheTwoThunderbirdPaths) {
  EXPECT_TRUE(AutoconfigRoute::owns("/.well-known/autoconfig/mail/config-v1.1.xml"));
  EXPECT_TRUE(AutoconfigRoute::owns("/mail/config-v1.1.xml"));
  EXPECT_FALSE(AutoconfigRoute::owns("/mail/config-v1.1.xml/"));
  EXPECT_FALSE(AutoconfigRoute::owns("/mail/config-v1.0.xml"));
  EXPECT_FALSE(AutoconfigRoute::owns("/config-v1.1.xml"));
}

TEST(AutoconfigRoute, AnswersOnlyAddressesOfTheMailDomain) {
  auto route = AutoconfigRoute::create(example_mail(kSmtpHost));
  ASSERT_TRUE(route.ok());
  auto expected = mail_autoconfig(example_mail(kSmtpHost));
  ASSERT_TRUE(expected.ok());
  for (std::optional<std::string_view> address :
       {std::optional<std::string_view>(), std::optional<std::string_view>("alice@example.org"),
        std::optional<std::string_view>("Alice@EXAMPLE.Org"),
        std::optional<std::string_view>("\"a@b\"@example.org")}) {
    auto document = route->document_for(address);
    ASSERT_TRUE(document.ok()) << address.value_or("(none)");
    EXPECT_EQ(*document, *expected);
  }
  for (std::string_view address :
       {"alice@example.com", "alice@mail.example.org", "alice@example.org.evil.test", "alice",
        "@example.org", "", "example.org"}) {
    auto document = route->document_for(address);
    ASSERT_FALSE(document.ok()) << address;
    EXPECT_EQ(document.code(), Code::not_found);
  }
}

TEST(AutoconfigRoute, WithoutMailSettingsNothingIsFound) {
  auto route = AutoconfigRoute::create(std::nullopt);
  ASSERT_TRUE(route.ok());
  auto document = route->document_for(std::nullopt);
  ASSERT_FALSE(document.ok());
  EXPECT_EQ(document.code(), Code::not_found);
}

}  // namespace
}  // namespace touchpass::web
