// The installed default configuration (/etc/touchpass/touchpassd.conf) documents every key:
// uncommented, its lines parse and give exactly the built-in defaults; every key the daemon
// accepts is in it; and every key in README.md's table is in it.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "daemon/config.h"

namespace touchpass::daemon {
namespace {

std::string read(const char* path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The keys of the commented-out `#key = value` lines, and the text with those lines uncommented.
std::set<std::string> commented_keys(const std::string& text, std::string* uncommented) {
  static const std::regex setting(R"(^#([a-z0-9_]+(\.[a-z0-9_-]+)?) = ?(.*)$)");
  std::set<std::string> keys;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (std::regex_match(line, m, setting)) {
      // A family of keys (service.imap, service.smtp…) is one key of config_keys().
      const std::string key = m[1];
      keys.insert(key.starts_with("service.") ? "service.NAME" : key);
      *uncommented += line.substr(1) + "\n";
    } else {
      *uncommented += line + "\n";
    }
  }
  return keys;
}

TEST(DefaultConfig, UncommentedItGivesTheBuiltInDefaults) {
  std::string uncommented;
  commented_keys(read(TOUCHPASS_DEFAULT_CONFIG), &uncommented);
  auto parsed = parse_config(uncommented, "touchpassd.conf");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  const Config& c = *parsed;
  const Config d = Config::defaults();
  EXPECT_EQ(c.socket, d.socket);
  EXPECT_EQ(c.store, d.store);
  EXPECT_EQ(c.pepper, d.pepper);
  EXPECT_EQ(c.rp_id, d.rp_id);
  EXPECT_EQ(c.virtual_token_dir, d.virtual_token_dir);
  EXPECT_EQ(c.usb_tokens, d.usb_tokens);
  EXPECT_EQ(c.admin_group, d.admin_group);
  EXPECT_EQ(c.service_group, d.service_group);
  EXPECT_EQ(c.token_timeout, d.token_timeout);
  EXPECT_EQ(c.pin_timeout, d.pin_timeout);
  EXPECT_EQ(c.uv, d.uv);
  EXPECT_EQ(c.max_clients, d.max_clients);
  EXPECT_EQ(c.max_clients_per_user, d.max_clients_per_user);
  EXPECT_EQ(c.reserved_clients, d.reserved_clients);
  EXPECT_EQ(c.ipv6_prefix, d.ipv6_prefix);
  EXPECT_EQ(c.user_failures, d.user_failures);
  EXPECT_EQ(c.failure_delay, d.failure_delay);
  EXPECT_EQ(c.lockout_failures, d.lockout_failures);
  EXPECT_EQ(c.lockout, d.lockout);
  EXPECT_EQ(c.token_group, d.token_group);
  std::vector<std::string> listed, defaults;
  for (const auto& service : c.mail_services())
    listed.push_back(service.name + ": " + service.description);
  for (const auto& service : d.mail_services())
    defaults.push_back(service.name + ": " + service.description);
  EXPECT_EQ(listed, defaults);
}

TEST(DefaultConfig, ListsEveryKeyTheDaemonAccepts) {
  std::string uncommented;
  const std::set<std::string> keys = commented_keys(read(TOUCHPASS_DEFAULT_CONFIG), &uncommented);
  for (const std::string_view key : config_keys()) {
    EXPECT_EQ(keys.count(std::string(key)), 1u)
        << key << " is missing from the default configuration";
  }
  for (const auto& key : keys) {
    auto parsed = parse_config(key + " = \x01", "probe");
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().message.find("unknown key"), std::string::npos)
        << key << " is in the default configuration but the daemon does not know it";
  }
  EXPECT_EQ(keys.size(), config_keys().size());
}

TEST(DefaultConfig, HasEveryKeyOfTheReadmeTable) {
  static const std::regex row(R"(^\| `([a-z0-9_]+)` \| `[^`]*` \|)");
  std::string uncommented;
  const std::set<std::string> keys = commented_keys(read(TOUCHPASS_DEFAULT_CONFIG), &uncommented);
  std::istringstream readme(read(TOUCHPASS_README));
  std::string line;
  int rows = 0;
  while (std::getline(readme, line)) {
    std::smatch m;
    if (!std::regex_search(line, m, row)) continue;
    ++rows;
    EXPECT_EQ(keys.count(m[1]), 1u) << "README.md lists " << m[1] << "; the default file lacks it";
  }
  EXPECT_GE(rows, 10);
}

}  // namespace
}  // namespace touchpass::daemon
