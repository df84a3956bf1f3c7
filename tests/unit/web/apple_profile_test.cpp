// The Apple configuration profile (apple_profile.h), parsed back with libxml2: every key of the
// account, the security modes, the login per mail_login, the password through escaping, and
// fresh UUIDs.
#include "web/apple_profile.h"

#include <gtest/gtest.h>
#include <libxml/tree.h>

#include <set>

#include "example_mail.h"
#include "parsed_xml.h"

namespace touchpass::web {
namespace {

using testing::example_mail;
using testing::ParsedXml;

// The value after <key>KEY</key> in the dict `dict` (an XPath to it): its element name and text.
struct Value {
  std::string element;
  std::string text;
};

std::optional<Value> value_of(const ParsedXml& xml, const std::string& dict,
                              const std::string& key) {
  const std::string keyed = dict + "/key[text()='" + key + "']";
  if (xml.count(keyed) != 1) return std::nullopt;
  const std::string next = keyed + "/following-sibling::*[1]";
  auto text = xml.one(next);
  if (!text) return std::nullopt;
  for (const char* kind : {"string", "integer", "true", "false", "array", "dict"}) {
    if (xml.count(next + "[self::" + kind + "]") == 1) return Value{kind, *text};
  }
  return Value{"?", *text};
}

// Whether `text` is a version 4 UUID in upper case: 8-4-4-4-12 hex digits, "4" and the variant.
bool uppercase_uuid_v4(const std::string& text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    const char c = text[i];
    if (dash != (c == '-')) return false;
    if (!dash && !((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return false;
  }
  return text[14] == '4' && std::string_view("89AB").find(text[19]) != std::string_view::npos;
}

constexpr const char* kTop = "/plist/dict";
constexpr const char* kAccount = "/plist/dict/array/dict";

TEST(AppleProfile, IsAPlistWithOneManagedMailPayload) {
  auto profile = apple_mail_profile(example_mail(), {"alice", "iPhone mail", "pw-1234", ""});
  ASSERT_TRUE(profile.ok()) << profile.error().message;
  EXPECT_NE(profile->find("<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
                          "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">"),
            std::string::npos)
      << *profile;
  ParsedXml xml(*profile);
  ASSERT_TRUE(xml.ok()) << *profile;
  ASSERT_NE(xml.doc()->intSubset, nullptr);
  EXPECT_STREQ(reinterpret_cast<const char*>(xml.doc()->intSubset->ExternalID),
               "-//Apple//DTD PLIST 1.0//EN");
  EXPECT_EQ(xml.one("/plist/@version"), "1.0");
  EXPECT_EQ(xml.count("/plist/dict/key[text()='PayloadContent']"), 1u);
  EXPECT_EQ(xml.count(kAccount), 1u);

  const std::vector<std::pair<std::string, Value>> top = {
      {"PayloadType", {"string", "Configuration"}},
      {"PayloadVersion", {"integer", "1"}},
      {"PayloadIdentifier", {"string", "org.example.touchpass.mail.alice"}},
      {"PayloadRemovalDisallowed", {"false", ""}},
      {"PayloadDisplayName", {"string", "Mail: alice@example.org"}},
      {"PayloadDescription",
       {"string",
        "Sets up the mail account alice@example.org with the app password \"iPhone "
        "mail\"."}},
  };
  for (const auto& [key, expected] : top) {
    auto v = value_of(xml, kTop, key);
    ASSERT_TRUE(v) << key;
    EXPECT_EQ(v->element, expected.element) << key;
    EXPECT_EQ(v->text, expected.text) << key;
  }
  const std::vector<std::pair<std::string, Value>> account = {
      {"PayloadType", {"string", "com.apple.mail.managed"}},
      {"PayloadVersion", {"integer", "1"}},
      {"PayloadIdentifier", {"string", "org.example.touchpass.mail.alice.account"}},
      {"PayloadDisplayName", {"string", "alice@example.org"}},
      {"EmailAccountDescription", {"string", "alice@example.org"}},
      {"EmailAccountName", {"string", "alice"}},
      {"EmailAccountType", {"string", "EmailTypeIMAP"}},
      {"EmailAddress", {"string", "alice@example.org"}},
      {"IncomingMailServerAuthentication", {"string", "EmailAuthPassword"}},
      {"IncomingMailServerHostName", {"string", "imap.example.org"}},
      {"IncomingMailServerPortNumber", {"integer", "993"}},
      {"IncomingMailServerUseSSL", {"true", ""}},
      {"IncomingMailServerUsername", {"string", "alice"}},
      {"IncomingPassword", {"string", "pw-1234"}},
      {"OutgoingMailServerAuthentication", {"string", "EmailAuthPassword"}},
      {"OutgoingMailServerHostName", {"string", "smtp.example.org"}},
      {"OutgoingMailServerPortNumber", {"integer", "587"}},
      {"OutgoingMailServerUseSSL", {"true", ""}},  // STARTTLS on 587: still no plain login
      {"OutgoingMailServerUsername", {"string", "alice"}},
      {"OutgoingPasswordSameAsIncomingPassword", {"true", ""}},
  };
  for (const auto& [key, expected] : account) {
    auto v = value_of(xml, kAccount, key);
    ASSERT_TRUE(v) << key;
    EXPECT_EQ(v->element, expected.element) << key;
    EXPECT_EQ(v->text, expected.text) << key;
  }
  // No outgoing password of its own: the incoming one is the only copy.
  EXPECT_EQ(xml.count("//key[text()='OutgoingPassword']"), 0u);
  EXPECT_EQ(xml.count("//string[text()='pw-1234']"), 1u);
}

TEST(AppleProfile, LogsInWithTheAddressWhenMailLoginSaysSo) {
  MailSettings mail = example_mail();
  mail.login = MailLogin::address;
  auto profile = apple_mail_profile(mail, {"bob", "iPad", "secret", "Bob Builder"});
  ASSERT_TRUE(profile.ok()) << profile.error().message;
  ParsedXml xml(*profile);
  ASSERT_TRUE(xml.ok());
  EXPECT_EQ(value_of(xml, kAccount, "IncomingMailServerUsername")->text, "bob@example.org");
  EXPECT_EQ(value_of(xml, kAccount, "OutgoingMailServerUsername")->text, "bob@example.org");
  EXPECT_EQ(value_of(xml, kAccount, "EmailAddress")->text, "bob@example.org");
  EXPECT_EQ(value_of(xml, kAccount, "EmailAccountName")->text, "Bob Builder");
}

TEST(AppleProfile, PasswordsAndNamesWithXmlSpecialCharactersSurviveEscaping) {
  const std::string password = "<&\"'>]]>&amp; x";
  const std::string name = "Phone <\"work\"> & more \xc3\xa9";
  auto profile = apple_mail_profile(example_mail(), {"alice", name, password, ""});
  ASSERT_TRUE(profile.ok()) << profile.error().message;
  ParsedXml xml(*profile);
  ASSERT_TRUE(xml.ok()) << *profile;
  EXPECT_EQ(value_of(xml, kAccount, "IncomingPassword")->text, password);
  EXPECT_EQ(value_of(xml, kTop, "PayloadDescription")->text,
            "Sets up the mail account alice@example.org with the app password \"" + name + "\".");
  // Nothing of the password's text leaked out of its element as markup.
  EXPECT_EQ(xml.count("//key"),
            xml.count("/plist/dict/key") + xml.count(std::string(kAccount) + "/key"));
}

TEST(AppleProfile, EveryProfileHasFreshUppercaseUuids) {
  std::set<std::string> seen;
  for (int i = 0; i < 3; ++i) {
    auto profile = apple_mail_profile(example_mail(), {"alice", "iPhone", "pw", ""});
    ASSERT_TRUE(profile.ok());
    ParsedXml xml(*profile);
    ASSERT_TRUE(xml.ok());
    for (const char* dict : {kTop, kAccount}) {
      auto v = value_of(xml, dict, "PayloadUUID");
      ASSERT_TRUE(v) << dict;
      EXPECT_TRUE(uppercase_uuid_v4(v->text)) << v->text;
      EXPECT_TRUE(seen.insert(v->text).second) << "UUID used twice: " << v->text;
    }
  }
  EXPECT_EQ(seen.size(), 6u);
}

TEST(AppleProfile, RefusesTextXmlCannotCarry) {
  for (const ProfileAccount& account : {
           ProfileAccount{"alice", "iPhone", "pw\x01", ""},
           ProfileAccount{"alice", "iPhone\n", "pw", ""},
           ProfileAccount{"alice", "\xff\xfe", "pw", ""},
           ProfileAccount{"alice", "iPhone", std::string_view("p\0w", 3), ""},
           ProfileAccount{"", "iPhone", "pw", ""},
           ProfileAccount{"alice", "iPhone", "", ""},
       }) {
    auto profile = apple_mail_profile(example_mail(), account);
    ASSERT_FALSE(profile.ok()) << account.password_name;
    EXPECT_EQ(profile.code(), Code::invalid_argument);
  }
}

}  // namespace
}  // namespace touchpass::web
