#include "daemon/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace touchpass::daemon {
namespace {

TEST(Config, EmptyTextGivesTheDefaults) {
  auto c = parse_config("", "t.conf");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->socket, "/run/touchpass/touchpassd.sock");
  EXPECT_EQ(c->rp_id, "touchpass");
  EXPECT_EQ(c->uv, UvPolicy::required);
  EXPECT_EQ(c->token_timeout, std::chrono::seconds(30));
}

TEST(Config, ServicesAreTheDefaultsOrExactlyTheConfiguredOnesInOrder) {
  auto defaults = parse_config("", "t.conf");
  ASSERT_TRUE(defaults.ok());
  EXPECT_TRUE(defaults->services.empty());
  ASSERT_EQ(defaults->mail_services().size(), 6u);
  EXPECT_EQ(defaults->mail_services()[0].name, "imap");

  auto own = parse_config(
      "service.submission = Sending mail (port 587)\n# chat\nservice.xmpp = Chat: XMPP\n",
      "t.conf");
  ASSERT_TRUE(own.ok()) << own.error().message;
  const auto services = own->mail_services();
  ASSERT_EQ(services.size(), 2u);
  EXPECT_EQ(services[0].name, "submission");
  EXPECT_EQ(services[0].description, "Sending mail (port 587)");
  EXPECT_EQ(services[1].name, "xmpp");
  EXPECT_EQ(services[1].description, "Chat: XMPP");
}

TEST(Config, ParsesEveryKeyWithCommentsAndBlankLines) {
  const char* text =
      "# touchpassd test configuration\n"
      "\n"
      "socket = /tmp/x/sock   # trailing comment\n"
      "store=/tmp/x/db\n"
      "pepper = /tmp/x/pepper\n"
      "rp_id = touchpass:test\n"
      "virtual_token_dir =\n"
      "usb_tokens = no\n"
      "admin_group = wheel\n"
      "service_group = dovecot\n"
      "token_timeout = 5\n"
      "pin_timeout = 10\n"
      "uv = allowed\n"
      "max_clients = 16\n"
      "failure_delay_ms = 0\n"
      "lockout_failures = 3\n"
      "lockout_seconds = 60\n";
  auto c = parse_config(text, "t.conf");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->socket, "/tmp/x/sock");
  EXPECT_EQ(c->store, "/tmp/x/db");
  EXPECT_EQ(c->pepper, "/tmp/x/pepper");
  EXPECT_EQ(c->rp_id, "touchpass:test");
  EXPECT_TRUE(c->virtual_token_dir.empty());
  EXPECT_FALSE(c->usb_tokens);
  EXPECT_EQ(c->admin_group, "wheel");
  EXPECT_EQ(c->service_group, "dovecot");
  EXPECT_EQ(c->token_timeout, std::chrono::seconds(5));
  EXPECT_EQ(c->pin_timeout, std::chrono::seconds(10));
  EXPECT_EQ(c->uv, UvPolicy::allowed);
  EXPECT_EQ(c->max_clients, 16);
  EXPECT_EQ(c->failure_delay, std::chrono::milliseconds(0));
  EXPECT_EQ(c->lockout_failures, 3);
  EXPECT_EQ(c->lockout, std::chrono::seconds(60));
}

struct BadCase {
  const char* text;
  const char* expected;  // the whole error message
};

TEST(Config, WebOriginIsParsedAndItsHostIsTheWebRpId) {
  EXPECT_FALSE(Config::defaults().web_origin.has_value());
  auto c = parse_config("web_origin = https://Mail.Example.test:8443\n", "t.conf");
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_TRUE(c->web_origin.has_value());
  EXPECT_EQ(c->web_origin->origin, "https://mail.example.test:8443");
  EXPECT_EQ(c->web_origin->host, "mail.example.test");
  auto bad = parse_config("\nweb_origin = http://mail.example.test\n", "t.conf");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("t.conf:2"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("https://"), std::string::npos) << bad.error().message;
}

TEST(Config, BadInputNamesTheFileTheLineAndTheReason) {
  const BadCase cases[] = {
      {"\nsockett = /x\n", "t.conf:2: unknown key \"sockett\""},
      {"socket /x\n", "t.conf:1: expected `key = value`"},
      {"socket = relative/path\n", "t.conf:1: bad value for \"socket\": the path must be absolute"},
      {"token_timeout = 0\n",
       "t.conf:1: bad value for \"token_timeout\": expected a whole number from 1 to 600 "
       "(seconds)"},
      {"token_timeout = 5s\n",
       "t.conf:1: bad value for \"token_timeout\": expected a whole number from 1 to 600 "
       "(seconds)"},
      {"uv = maybe\n", "t.conf:1: bad value for \"uv\": expected required or allowed"},
      {"usb_tokens = 1\n", "t.conf:1: bad value for \"usb_tokens\": expected true or false"},
      {"admin_group = a b\n",
       "t.conf:1: bad value for \"admin_group\": only letters, digits, '-', '_' and '.' are "
       "allowed"},
      {"rp_id = two words\n",
       "t.conf:1: bad value for \"rp_id\": only printable ASCII without spaces is allowed"},
      {"store = /a\n# c\nstore = /b\n", "t.conf:3: \"store\" is set twice"},
      {"store =\n", "t.conf:1: bad value for \"store\": a path is required"},
      {"service.IMAP = Mail\n",
       "t.conf:1: bad value for \"service.IMAP\": a service name is 1 to 32 lower-case letters, "
       "digits, '_' and '-'"},
      {"service.imap =\n",
       "t.conf:1: bad value for \"service.imap\": a description of 1 to 200 bytes is required"},
      {"service.all = Everything\n",
       "t.conf:1: bad value for \"service.all\": \"all\" means every service and cannot name "
       "one"},
      {"service.imap = a\x01b\n",
       "t.conf:1: bad value for \"service.imap\": the description may not hold control "
       "characters"},
      {"service.imap = a\nservice.imap = b\n", "t.conf:2: \"service.imap\" is set twice"},
      {"service. = x\n", "t.conf:1: unknown key \"service.\""},
  };
  for (const auto& c : cases) {
    auto r = parse_config(c.text, "t.conf");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.code(), Code::invalid_argument);
    EXPECT_EQ(r.error().message, c.expected) << c.text;
  }
}

TEST(Config, LoadsAFileAndHandlesAMissingOne) {
  const auto dir = std::filesystem::temp_directory_path() / "touchpass-config-test";
  std::filesystem::create_directories(dir);
  const auto file = dir / "touchpassd.conf";
  std::ofstream(file) << "rp_id = from-file\nbogus = 1\n";
  auto bad = load_config(file, false);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, file.string() + ":2: unknown key \"bogus\"");
  std::ofstream(file) << "rp_id = from-file\n";
  auto good = load_config(file, false);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->rp_id, "from-file");
  EXPECT_FALSE(load_config(dir / "missing.conf", false).ok());
  auto defaults = load_config(dir / "missing.conf", true);
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->rp_id, "touchpass");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace touchpass::daemon
