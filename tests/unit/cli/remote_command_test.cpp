// Whole command lines with --server or a configuration file: which commands go where, and the
// errors given before any server is asked. (The remote commands themselves run against the real
// touchpass-web in tests/integration/web/remote_cli_test.cpp.)
#include <gtest/gtest.h>

#include <fstream>

#include "cli/commands.h"
#include "cli/exit_code.h"
#include "cli_test_support.h"
#include "support/virtual_token.h"

namespace touchpass::cli {
namespace {

using namespace testing;
using ipc::Json;

class RemoteCommandTest : public ::testing::Test {
 protected:
  RemoteCommandTest() {
    env_.make_pins = [](bool) { return std::make_unique<NoTerminalPinSource>(); };
    env_.catch_signals = false;
    env_.timing = {.poll_interval = 20ms, .reply_timeout = 2000ms};
    env_.config_file = dir_.path() / "config";
  }

  int run(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"touchpass"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_touchpass(argv, env_);
  }

  void write_config(const std::string& text) { std::ofstream(env_.config_file) << text; }

  touchpass::testing::TempDir dir_;
  RecordingConsole console_;
  CancelFlag cancel_;
  Environment env_ = process_environment(console_, cancel_);
};

TEST_F(RemoteCommandTest, LocalOnlyCommandsRefuseTheServerFlagAndSayWhy) {
  for (const auto& [command, why] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"invite"}, "makes invitations on the server itself"},
           {{"unlock", "--all"}, "for the server's administrators"},
           {{"verify", "--user", "a", "--service", "imap"}, "for the services on the server"},
           {{"devices"}, "asks no server"}}) {
    console_.err_text.clear();
    std::vector<std::string> args = {"--server", "https://mail.example.org"};
    args.insert(args.end(), command.begin(), command.end());
    EXPECT_EQ(run(args), 2) << command[0];
    EXPECT_NE(console_.err_text.find(why), std::string::npos) << console_.err_text;
    EXPECT_NE(console_.err_text.find("without --server"), std::string::npos) << console_.err_text;
  }
}

TEST_F(RemoteCommandTest, TheConfigurationsServerLeavesLocalOnlyCommandsLocal) {
  write_config("server = https://mail.example.org\n");
  EXPECT_EQ(run({"devices", "--json", "--no-usb"}), 0) << console_.err_text;
  EXPECT_EQ(Json::parse(console_.out_text), Json({{"devices", Json::array()}}));
}

TEST_F(RemoteCommandTest, AnExplicitSocketMeansTheLocalDaemon) {
  write_config("server = https://mail.example.org\n");
  auto daemon = listening_daemon([](DaemonConnection& d) {
    EXPECT_EQ(d.next_json()["op"], "list");
    d.ok({{"grants", Json::array()}});
  });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(run({"--socket", daemon->path(), "list", "--json"}), 0) << console_.err_text;
  daemon->stop();
  EXPECT_EQ(run({"--socket", daemon->path(), "--server", "https://a.example", "list"}), 2);
}

TEST_F(RemoteCommandTest, BadServerOrPinIsAUsageError) {
  EXPECT_EQ(run({"--server", "http://mail.example.org", "list"}), 2);
  EXPECT_NE(console_.err_text.find("--server: "), std::string::npos) << console_.err_text;
  console_.err_text.clear();
  EXPECT_EQ(run({"--server", "https://mail.example.org", "--server-pin", "abc", "list"}), 2);
  EXPECT_NE(console_.err_text.find("--server-pin"), std::string::npos) << console_.err_text;
  console_.err_text.clear();
  EXPECT_EQ(run({"--server-pin", "sha256//x", "list"}), 2);
  EXPECT_NE(console_.err_text.find("give --server too"), std::string::npos) << console_.err_text;
  console_.err_text.clear();
  write_config("server = ftp://x\n");
  EXPECT_EQ(run({"tokens"}), 2);
  EXPECT_NE(console_.err_text.find("--server: "), std::string::npos) << console_.err_text;
}

TEST_F(RemoteCommandTest, ABrokenConfigurationFileNamesItsLine) {
  write_config("server = https://a.example\nsever_pin = x\n");
  EXPECT_EQ(run({"list"}), 2);
  EXPECT_NE(console_.err_text.find(env_.config_file.string() + ":2"), std::string::npos)
      << console_.err_text;
}

TEST_F(RemoteCommandTest, AnInvitationNeedsAServer) {
  EXPECT_EQ(run({"enroll", "--invitation", "abcd-efgh"}), 2);
  EXPECT_NE(console_.err_text.find("give --server too"), std::string::npos) << console_.err_text;
}

TEST_F(RemoteCommandTest, AnUnreachableServerExitsThreeNamingIt) {
  // Port 1 on the loopback: nothing listens there, the connection is refused at once.
  EXPECT_EQ(run({"--server", "https://127.0.0.1:1", "list"}), 3);
  EXPECT_EQ(console_.err_text.rfind("Cannot reach https://127.0.0.1:1: ", 0), 0u)
      << console_.err_text;
}

}  // namespace
}  // namespace touchpass::cli
