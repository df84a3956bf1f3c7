// `touchpass verify`: the password comes from standard input only, travels in the secret part
// of the request, and the exit status tells scripts accepted (0) / refused (1) / no verdict (3).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/exit_code.h"
#include "cli_test_support.h"
#include "support/fd_pairs.h"

namespace touchpass::cli {
namespace {

using namespace testing;
using ipc::Json;

constexpr std::string_view kPassword = "k7qm-x9fj-4tca-2hwe-p3vn";

// Runs `touchpass verify …` against a fake daemon, with a pipe as standard input.
class VerifyCommandTest : public ::testing::Test {
 protected:
  VerifyCommandTest() {
    env_.catch_signals = false;
    env_.timing = {.poll_interval = 20ms, .reply_timeout = 1000ms};
  }

  // Makes `text`, then the end of input, the command's standard input.
  void input(std::string_view text) {
    auto pipe = touchpass::testing::input_pipe(text);
    ASSERT_TRUE(pipe.ok()) << pipe.error().message;
    stdin_ = std::move(*pipe);
    env_.password_fd = stdin_.get();
  }

  int run(const std::string& socket, std::vector<std::string> args) {
    args.insert(args.begin(), {"touchpass", "--socket", socket, "verify"});
    return run_touchpass(args, env_);
  }

  RecordingConsole console_;
  CancelFlag cancel_;
  Environment env_ = process_environment(console_, cancel_);
  UniqueFd stdin_;
};

// A daemon that records the request and its secret part, then runs `answer`.
Script verifying_daemon(Json* request, std::string* secret, Script answer) {
  return [=](DaemonConnection& d) {
    ipc::Frame frame = d.next();
    *request = Json::parse(frame.json, nullptr, false);
    *secret = std::string(frame.secret.view());
    answer(d);
  };
}

TEST_F(VerifyCommandTest, AcceptedPasswordExitsZeroAndTravelsOnlyInTheSecretPart) {
  Json request;
  std::string secret;
  auto daemon =
      listening_daemon(verifying_daemon(&request, &secret, [](DaemonConnection& d) { d.ok(); }));
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  input(std::string(kPassword) + "\n");
  const int code =
      run(daemon->path(), {"--user", "alice", "--service", "imap", "--remote", "192.0.2.7"});
  daemon->stop();
  EXPECT_EQ(code, 0) << console_.err_text;
  EXPECT_EQ(request, Json({{"v", 1},
                           {"op", "verify"},
                           {"user", "alice"},
                           {"service", "imap"},
                           {"remote", "192.0.2.7"}}));
  EXPECT_EQ(secret, kPassword);
  EXPECT_EQ(console_.out_text, "");
  EXPECT_EQ(console_.err_text, "");
}

TEST_F(VerifyCommandTest, CarriageReturnLineEndIsNotPartOfThePassword) {
  Json request;
  std::string secret;
  auto daemon =
      listening_daemon(verifying_daemon(&request, &secret, [](DaemonConnection& d) { d.ok(); }));
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  input(std::string(kPassword) + "\r\n");
  EXPECT_EQ(run(daemon->path(), {"--user", "alice", "--service", "imap"}), 0);
  daemon->stop();
  EXPECT_EQ(secret, kPassword);
  EXPECT_FALSE(request.contains("remote"));
}

TEST_F(VerifyCommandTest, RefusedPasswordExitsOneAndSaysRefused) {
  Json request;
  std::string secret;
  auto daemon = listening_daemon(verifying_daemon(
      &request, &secret, [](DaemonConnection& d) { d.error(Code::refused, "Refused."); }));
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  input("aaaa-bbbb-cccc-dddd-eeee\n");
  EXPECT_EQ(run(daemon->path(), {"--user", "alice", "--service", "imap"}), 1);
  daemon->stop();
  EXPECT_EQ(console_.err_text, "Refused.\n");
  EXPECT_EQ(console_.out_text, "");
}

TEST_F(VerifyCommandTest, ACallerThatMayNotVerifyGetsExitCodeFourAndTheDaemonsSentence) {
  const std::string sentence =
      "Only root and members of the group touchpass-service may verify passwords.";
  Json request;
  std::string secret;
  auto daemon = listening_daemon(verifying_daemon(
      &request, &secret, [&](DaemonConnection& d) { d.error(Code::permission_denied, sentence); }));
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  input(std::string(kPassword) + "\n");
  EXPECT_EQ(run(daemon->path(), {"--user", "alice", "--service", "imap"}), 4);
  daemon->stop();
  EXPECT_EQ(console_.err_text, sentence + "\n");
}

TEST_F(VerifyCommandTest, NoDaemonExitsThree) {
  input(std::string(kPassword) + "\n");
  EXPECT_EQ(run("/nonexistent/touchpassd.sock", {"--user", "alice", "--service", "imap"}), 3);
  EXPECT_NE(console_.err_text.find("not running"), std::string::npos) << console_.err_text;
}

// A daemon that fails, breaks the protocol or stays silent gives no verdict: exit 3, never 0
// and never 1 (which a checkpassword-style caller would take for a wrong password).
TEST_F(VerifyCommandTest, NoVerdictFromABrokenOrSilentDaemonExitsThree) {
  const std::vector<Script> behaviours = {
      [](DaemonConnection& d) { d.error(Code::io_error, "The store cannot be read."); },
      [](DaemonConnection& d) { d.send("this is not json"); },
      [](DaemonConnection& d) { d.send(R"({"v":2,"ok":true,"result":{}})"); },
      [](DaemonConnection& d) {
        d.event("touch-token", {{"step", 1}, {"steps", 1}});
      },
      [](DaemonConnection&) {},                      // hangs up without answering
      [](DaemonConnection& d) { d.pause(1500ms); },  // silent past the timeout
  };
  for (std::size_t i = 0; i < behaviours.size(); ++i) {
    SCOPED_TRACE("behaviour " + std::to_string(i));
    input(std::string(kPassword) + "\n");
    Json request;
    std::string secret;
    auto daemon = listening_daemon(verifying_daemon(&request, &secret, behaviours[i]));
    ASSERT_TRUE(daemon.ok()) << daemon.error().message;
    console_.err_text.clear();
    EXPECT_EQ(run(daemon->path(), {"--user", "alice", "--service", "imap"}), 3)
        << console_.err_text;
    daemon->stop();
    EXPECT_FALSE(console_.err_text.empty());
  }
}

TEST_F(VerifyCommandTest, EmptyOrOverlongPasswordIsRefusedWithoutAskingTheDaemon) {
  for (const std::string& line : {std::string("\n"), std::string(300, 'a') + "\n"}) {
    input(line);
    bool contacted = false;
    auto daemon = listening_daemon([&contacted](DaemonConnection&) { contacted = true; });
    ASSERT_TRUE(daemon.ok()) << daemon.error().message;
    console_.err_text.clear();
    EXPECT_EQ(run(daemon->path(), {"--user", "alice", "--service", "imap"}), 1);
    daemon->stop();
    EXPECT_FALSE(contacted);
    EXPECT_EQ(console_.err_text, "Refused.\n");
  }
}

TEST_F(VerifyCommandTest, NoInputIsAUsageError) {
  input("");
  bool contacted = false;
  auto daemon = listening_daemon([&contacted](DaemonConnection&) { contacted = true; });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(run(daemon->path(), {"--user", "alice", "--service", "imap"}), 2);
  daemon->stop();
  EXPECT_FALSE(contacted);
  EXPECT_NE(console_.err_text.find("standard input"), std::string::npos) << console_.err_text;
}

TEST_F(VerifyCommandTest, ThePasswordCannotBeGivenAsAnArgumentAndUserAndServiceAreRequired) {
  input(std::string(kPassword) + "\n");
  EXPECT_EQ(run("/nonexistent", {"--user", "alice", "--service", "imap", std::string(kPassword)}),
            2);
  EXPECT_EQ(run("/nonexistent", {"--user", "alice"}), 2);
  EXPECT_EQ(run("/nonexistent", {"--service", "imap"}), 2);
  EXPECT_EQ(occurrences(console_.out_text + console_.err_text, kPassword), 0);
}

}  // namespace
}  // namespace touchpass::cli
