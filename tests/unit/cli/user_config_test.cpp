// ~/.config/touchpass/config, and how its server meets the flags.
#include "cli/user_config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "support/virtual_token.h"

namespace touchpass::cli {
namespace {

TEST(UserConfig, PathFollowsXdgThenHome) {
  EXPECT_EQ(user_config_path("/x", "/home/a"), "/x/touchpass/config");
  EXPECT_EQ(user_config_path(nullptr, "/home/a"), "/home/a/.config/touchpass/config");
  EXPECT_EQ(user_config_path("relative", "/home/a"), "/home/a/.config/touchpass/config");
  EXPECT_TRUE(user_config_path(nullptr, nullptr).empty());
}

TEST(UserConfig, ReadsServerAndPin) {
  auto c = parse_user_config(
      "# my mail\nserver = https://mail.example.org\nserver_pin = sha256//x\n", "config");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->server, "https://mail.example.org");
  EXPECT_EQ(c->server_pin, "sha256//x");
}

TEST(UserConfig, UnknownKeysAndRepeatsNameTheLine) {
  auto unknown = parse_user_config("server = https://a.example\nsocket = /x\n", "config");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.code(), Code::invalid_argument);
  EXPECT_NE(unknown.error().message.find("config:2"), std::string::npos) << unknown.error().message;
  auto twice = parse_user_config("server = a\nserver = b\n", "config");
  EXPECT_FALSE(twice.ok());
}

TEST(UserConfig, AMissingFileIsEmpty) {
  touchpass::testing::TempDir dir;
  auto c = read_user_config(dir.path() / "nothing" / "config");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->server.empty());
  std::ofstream(dir.path() / "config") << "server = https://b.example\n";
  auto read = read_user_config(dir.path() / "config");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->server, "https://b.example");
}

TEST(UserConfig, FlagsWinAndSocketMeansLocal) {
  const UserConfig config{"https://a.example", "sha256//A"};
  auto from_file = choose_server(std::nullopt, std::nullopt, false, config);
  EXPECT_EQ(from_file.server, "https://a.example");
  EXPECT_EQ(from_file.pin, "sha256//A");
  EXPECT_FALSE(from_file.from_flag);

  auto flag = choose_server(std::string("https://b.example"), std::nullopt, false, config);
  EXPECT_EQ(flag.server, "https://b.example");
  EXPECT_TRUE(flag.pin.empty());  // the file's pin is for the file's server
  EXPECT_TRUE(flag.from_flag);

  auto same = choose_server(std::string("https://a.example"), std::nullopt, false, config);
  EXPECT_EQ(same.pin, "sha256//A");
  auto pinned = choose_server(std::nullopt, std::string("sha256//B"), false, config);
  EXPECT_EQ(pinned.pin, "sha256//B");

  auto local = choose_server(std::nullopt, std::nullopt, true, config);
  EXPECT_TRUE(local.server.empty());
  EXPECT_TRUE(local.pin.empty());
}

}  // namespace
}  // namespace touchpass::cli
