// Phone setup through the web gateway (issue 14): a password issued with phone_setup is left in
// touchpassd for the link the client shows as a QR code; touchpass-web (an unprivileged gateway)
// takes it once with the link's token, as an Apple configuration profile with the IMAP and SMTP
// accounts (parsed back with libxml2) or as the settings and the password to type.
#include <gtest/gtest.h>
#include <unistd.h>

#include "core/bytes.h"
#include "parsed_xml.h"
#include "support/qr_reader.h"
#include "web_stack.h"

namespace touchpass::testing {
namespace {

using Json = ipc::Json;
using web::testing::ParsedXml;

constexpr const char* kSetupPage = "/setup.html#";

class WebPhoneSetup : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: touchpass-web runs as nobody";
    std::string error;
    stack_ = WebStack::start(&error,
                             "mail_domain = example.test\nimap_server = mail.example.test\n"
                             "smtp_server = mail.example.test\n");
    ASSERT_TRUE(stack_) << error;
    alice_ = std::make_unique<WebClient>(stack_->new_client("alice"));
    const std::string code = stack_->invite("alice");
    ASSERT_FALSE(code.empty()) << stack_->deployment().daemon_log();
    const ApiReply enrolled = stack_->ceremony(*alice_, "enroll", {{"invitation", code}});
    ASSERT_TRUE(enrolled.ok()) << enrolled.http.body;
  }

  // Issues `name` for imap and smtp with a phone setup: the password and the link's token.
  std::pair<std::string, std::string> issue_for_phone(const std::string& name) {
    const ApiReply issued = stack_->ceremony(
        *alice_, "issue", {{"name", name}, {"scopes", {"imap", "smtp"}}, {"phone_setup", true}});
    EXPECT_TRUE(issued.ok()) << issued.http.body;
    if (!issued.ok()) return {};
    const std::string link = issued.result().at("phone_setup").at("link");
    const std::string prefix = stack_->origin() + kSetupPage;
    EXPECT_TRUE(link.starts_with(prefix)) << link;
    const auto password = from_base64url(issued.result().value("secret", ""));
    EXPECT_TRUE(password.has_value());
    return {password ? std::string(password->begin(), password->end()) : "",
            link.substr(prefix.size())};
  }

  std::unique_ptr<WebStack> stack_;
  std::unique_ptr<WebClient> alice_;
};

TEST_F(WebPhoneSetup, TheLinkInstallsAnAppleProfileWithTheAccountsOnce) {
  const auto [password, token] = issue_for_phone("iPhone mail");
  ASSERT_FALSE(token.empty());
  WebClient phone = stack_->new_client("phone");
  const HttpAnswer page = stack_->get_page(phone, "/setup.html");
  EXPECT_EQ(page.status, 200);

  const HttpAnswer profile = stack_->get_page(phone, "/setup/profile?token=" + token);
  ASSERT_EQ(profile.status, 200) << profile.body;
  EXPECT_EQ(profile.header("content-type"), "application/x-apple-aspen-config");
  EXPECT_EQ(profile.header("cache-control"), "no-store");  // it holds the password
  const ParsedXml plist(profile.body);
  ASSERT_TRUE(plist.ok()) << profile.body;
  const std::string mail = "//dict[key='PayloadType' and string='com.apple.mail.managed']";
  const auto value = [&](const std::string& key) {
    return plist.one(mail + "/key[.='" + key + "']/following-sibling::*[1]");
  };
  EXPECT_EQ(plist.one("/plist/dict/key[.='PayloadType']/following-sibling::*[1]"), "Configuration");
  EXPECT_EQ(value("EmailAccountType"), "EmailTypeIMAP");
  EXPECT_EQ(value("IncomingMailServerHostName"), "mail.example.test");
  EXPECT_EQ(value("IncomingMailServerPortNumber"), "993");
  EXPECT_EQ(value("IncomingMailServerUsername"), "alice");
  EXPECT_EQ(value("IncomingPassword"), password);
  EXPECT_EQ(value("OutgoingMailServerHostName"), "mail.example.test");
  EXPECT_EQ(value("EmailAddress"), "alice@example.test");
  EXPECT_EQ(stack_->verify("alice", password, "imap"), "ok");

  // Once: the same link again, or a HEAD that would spend it, gets nothing.
  const HttpAnswer again = stack_->get_page(phone, "/setup/profile?token=" + token);
  EXPECT_EQ(again.status, 404);
  EXPECT_EQ(again.body.find(password), std::string::npos);
  EXPECT_EQ(stack_->get_page(phone, "/setup/profile?token=not-a-token").status, 404);
  EXPECT_EQ(stack_->get_page(phone, "/setup/profile").status, 404);
}

TEST_F(WebPhoneSetup, ThePageIsToldOfPhonesAndGetsTheLinksQrCode) {
  const ApiReply services = stack_->call(*alice_, "services");
  ASSERT_TRUE(services.ok()) << services.http.body;
  EXPECT_EQ(services.result().value("phone_setup", false), true) << services.http.body;

  const ApiReply shown = stack_->ceremony(
      *alice_, "issue", {{"name", "tablet"}, {"scopes", {"imap"}}, {"phone_setup", true}});
  ASSERT_TRUE(shown.ok()) << shown.http.body;
  const Json& setup = shown.result().at("phone_setup");
  ASSERT_TRUE(setup.contains("qr")) << setup.dump();
  std::vector<std::vector<bool>> modules;
  for (const Json& row : setup.at("qr").at("rows")) {
    std::vector<bool> line;
    for (char c : row.get<std::string>()) line.push_back(c == '1');
    modules.push_back(std::move(line));
  }
  EXPECT_EQ(modules.size(), setup.at("qr").at("size").get<std::size_t>());
  if (!zbarimg_available()) GTEST_SKIP() << "needs zbarimg (zbar-tools) to read the code back";
  std::string why;
  const auto decoded = read_qr_modules(modules, &why);
  ASSERT_TRUE(decoded.has_value()) << why;
  EXPECT_EQ(*decoded, setup.at("link").get<std::string>());
}

TEST_F(WebPhoneSetup, OtherPhonesGetTheSettingsAndThePasswordToTypeOnce) {
  const auto [password, token] = issue_for_phone("android");
  ASSERT_FALSE(token.empty());
  WebClient phone = stack_->new_client("phone");  // no cookie, no CSRF token: a phone's browser
  const ApiReply taken = stack_->call(phone, "phone-setup", {{"secret", token}});
  ASSERT_TRUE(taken.ok()) << taken.http.body;
  const Json& r = taken.result();
  EXPECT_EQ(r.at("user"), "alice");
  EXPECT_EQ(r.at("name"), "android");
  EXPECT_EQ(r.at("scopes"), (Json{"imap", "smtp"}));
  const auto secret = from_base64url(r.value("secret", ""));
  ASSERT_TRUE(secret.has_value());
  EXPECT_EQ(std::string(secret->begin(), secret->end()), password);
  EXPECT_EQ(r.at("mail").at("address"), "alice@example.test");
  EXPECT_EQ(r.at("mail").at("login"), "alice");
  EXPECT_EQ(r.at("mail").at("imap"),
            (Json{{"host", "mail.example.test"}, {"port", 993}, {"security", "ssl"}}));
  EXPECT_EQ(r.at("mail").at("smtp"),
            (Json{{"host", "mail.example.test"}, {"port", 465}, {"security", "ssl"}}));

  const ApiReply again = stack_->call(phone, "phone-setup", {{"secret", token}});
  EXPECT_EQ(again.code(), "not_found");
  EXPECT_EQ(again.http.body.find(password), std::string::npos);
  // The taking is in alice's audit log, with the phone's address.
  const ApiReply log = stack_->call(*alice_, "log", {{"limit", 5}});
  ASSERT_TRUE(log.ok());
  EXPECT_NE(log.http.body.find("phone-setup"), std::string::npos) << log.http.body;
}

}  // namespace
}  // namespace touchpass::testing
