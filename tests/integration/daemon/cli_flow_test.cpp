// The touchpass CLI, touchpassd and the virtual token as three separate programs: the user's
// whole flow, typed as a user (or a script) would.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "daemon/daemon_harness.h"

namespace touchpass::testing {
namespace {

class CliFlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(deployment_.start_token());
    ASSERT_TRUE(deployment_.start_daemon());
  }

  CommandResult touchpass(std::vector<std::string> args, const std::string& input = "",
                          std::optional<std::pair<uid_t, gid_t>> as = std::nullopt,
                          const std::vector<std::string>& env = {}) {
    const auto cli = deployment_.cli();
    args.insert(args.begin(), cli.begin(), cli.end());
    return run_command(args, input, as, env);
  }

  // The names of the app passwords `list` shows.
  std::vector<std::string> listed_names() {
    std::vector<std::string> names;
    const auto listed = touchpass({"list", "--json"});
    EXPECT_EQ(listed.exit_code, 0) << listed.err;
    const auto result = ipc::Json::parse(listed.out);
    for (const auto& grant : result["grants"]) names.push_back(grant["name"]);
    return names;
  }

  Deployment deployment_;
};

const std::regex kPassword("^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){4}\n$");

TEST_F(CliFlowTest, EnrollIssueShowListRevokeLog) {
  auto enrolled = touchpass({"enroll", "--label", "work key", "--pin-stdin"}, "123456\n");
  ASSERT_EQ(enrolled.exit_code, 0) << enrolled.err;
  EXPECT_NE(enrolled.err.find("Touch your security key"), std::string::npos) << enrolled.err;

  auto tokens = touchpass({"tokens"});
  ASSERT_EQ(tokens.exit_code, 0);
  EXPECT_NE(tokens.out.find("work key"), std::string::npos);
  EXPECT_NE(tokens.out.find("(virtual)"), std::string::npos);

  auto issued =
      touchpass({"issue", "thunderbird", "--scope", "imap,smtp", "--expires", "90d", "--pin-stdin"},
                "123456\n");
  ASSERT_EQ(issued.exit_code, 0) << issued.err;
  ASSERT_TRUE(std::regex_match(issued.out, kPassword)) << issued.out;
  EXPECT_EQ(issued.err.find(issued.out.substr(0, 24)), std::string::npos);  // only on stdout

  auto shown = touchpass({"show", "thunderbird", "--pin-stdin"}, "123456\n");
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(shown.out, issued.out);

  auto listed = touchpass({"list", "--json"});
  ASSERT_EQ(listed.exit_code, 0);
  auto json = ipc::Json::parse(listed.out);
  ASSERT_EQ(json["grants"].size(), 1u);
  EXPECT_EQ(json["grants"][0]["name"], "thunderbird");
  EXPECT_EQ(json["grants"][0]["scopes"], ipc::Json({"imap", "smtp"}));
  EXPECT_EQ(json["grants"][0]["grant_id"].get<std::string>().size(), 32u);
  EXPECT_EQ(listed.out.find(issued.out.substr(0, 24)), std::string::npos);

  // Renaming keeps the password: it is derived from the grant id, not from the name.
  ASSERT_EQ(touchpass({"rename", "thunderbird", "tb"}).exit_code, 0);
  auto renamed = touchpass({"show", "tb", "--pin-stdin"}, "123456\n");
  ASSERT_EQ(renamed.exit_code, 0) << renamed.err;
  EXPECT_EQ(renamed.out, issued.out);
  ASSERT_EQ(touchpass({"rename", "tb", "thunderbird"}).exit_code, 0);

  auto duplicate = touchpass({"issue", "thunderbird", "--scope", "all", "--pin-stdin"}, "123456\n");
  EXPECT_NE(duplicate.exit_code, 0);
  EXPECT_NE(duplicate.err.find("already exists"), std::string::npos) << duplicate.err;

  ASSERT_EQ(touchpass({"revoke", "thunderbird"}).exit_code, 0);
  auto after = touchpass({"list", "--json"});
  EXPECT_TRUE(ipc::Json::parse(after.out)["grants"].empty());
  auto gone = touchpass({"show", "thunderbird", "--pin-stdin"}, "123456\n");
  EXPECT_EQ(gone.exit_code, 7) << gone.err;  // not found

  auto log = touchpass({"log", "--verify"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  EXPECT_NE(log.out.find("revoke"), std::string::npos);
  EXPECT_NE((log.out + log.err).find("intact"), std::string::npos) << log.out << log.err;
  // The issue's proof and both shows' (one under the name "tb") verify with the enrolled key.
  EXPECT_NE(log.err.find("The proofs of 1 app password(s) and of 2 show(s) verify"),
            std::string::npos)
      << log.err;
}

TEST_F(CliFlowTest, APasswordIssuedFromNetworksVerifiesOnlyFromThem) {
  ASSERT_EQ(touchpass({"enroll", "--pin-stdin"}, "123456\n").exit_code, 0);
  auto bad = touchpass(
      {"issue", "office", "--scope", "all", "--from", "192.168.1.7/24", "--pin-stdin"}, "123456\n");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("\"192.168.1.7/24\" has host bits set"), std::string::npos) << bad.err;
  EXPECT_TRUE(bad.out.empty()) << bad.out;

  auto issued = touchpass({"issue", "office", "--scope", "all", "--from",
                           "192.168.0.0/16, 2001:db8::/32", "--pin-stdin"},
                          "123456\n");
  ASSERT_EQ(issued.exit_code, 0) << issued.err;
  ASSERT_TRUE(std::regex_match(issued.out, kPassword)) << issued.out;
  const auto verify = [&](std::vector<std::string> remote) {
    std::vector<std::string> args = {"verify", "--user", "root", "--service", "imap"};
    args.insert(args.end(), remote.begin(), remote.end());
    return touchpass(args, issued.out).exit_code;
  };
  EXPECT_EQ(verify({"--remote", "192.168.20.1"}), 0);
  EXPECT_EQ(verify({"--remote", "2001:db8::25"}), 0);
  EXPECT_EQ(verify({"--remote", "203.0.113.5"}), 1);
  EXPECT_EQ(verify({}), 1);

  auto listed = touchpass({"list"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("FROM"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("192.168.0.0/16,2001:db8::/32"), std::string::npos) << listed.out;
}

TEST_F(CliFlowTest, ShowWithAnotherKeyOrARevokedKeyFailsClearly) {
  ASSERT_EQ(touchpass({"enroll", "--label", "first", "--pin-stdin"}, "123456\n").exit_code, 0);
  auto issued = touchpass({"issue", "mail", "--scope", "all", "--pin-stdin"}, "123456\n");
  ASSERT_EQ(issued.exit_code, 0) << issued.err;

  // Another key (with its own credentials) plugged in instead of the enrolled one.
  deployment_.stop_token();
  ASSERT_TRUE(deployment_.start_token("other"));
  auto other = touchpass({"show", "mail", "--pin-stdin"}, "123456\n");
  EXPECT_EQ(other.exit_code, 5);
  EXPECT_NE(other.err.find("does not hold"), std::string::npos) << other.err;
  EXPECT_TRUE(other.out.empty());

  // The enrolled key is lost: revoking it revokes its passwords.
  auto revoked = touchpass({"revoke", "--token", "first"});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.err;
  EXPECT_NE(revoked.out.find("1 app password"), std::string::npos) << revoked.out;
  EXPECT_EQ(touchpass({"show", "mail", "--pin-stdin"}, "123456\n").exit_code, 7);
  auto tokens = touchpass({"tokens", "--json"});
  EXPECT_TRUE(ipc::Json::parse(tokens.out)["tokens"].empty()) << tokens.out;
  auto no_key = touchpass({"issue", "mail2", "--scope", "all", "--pin-stdin"}, "123456\n");
  EXPECT_NE(no_key.err.find("enroll"), std::string::npos) << no_key.err;
}

TEST_F(CliFlowTest, WrongPinSaysHowManyTriesAreLeft) {
  ASSERT_EQ(touchpass({"enroll", "--pin-stdin"}, "123456\n").exit_code, 0);
  auto wrong = touchpass({"issue", "mail", "--scope", "all", "--pin-stdin"}, "000000\n");
  EXPECT_EQ(wrong.exit_code, 5);
  EXPECT_NE(wrong.err.find("7 tries left"), std::string::npos) << wrong.err;
  EXPECT_TRUE(wrong.out.empty());
}

TEST_F(CliFlowTest, APinOperationWithoutATerminalOrPinStdinFailsInsteadOfHanging) {
  ASSERT_EQ(touchpass({"enroll", "--pin-stdin"}, "123456\n").exit_code, 0);
  auto no_tty = touchpass({"issue", "mail", "--scope", "all"});
  EXPECT_EQ(no_tty.exit_code, 5);
  EXPECT_NE(no_tty.err.find("--pin-stdin"), std::string::npos) << no_tty.err;
  EXPECT_EQ(ipc::Json::parse(touchpass({"list", "--json"}).out)["grants"].size(), 0u);
}

TEST_F(CliFlowTest, ANonAdminCannotActForAnotherUser) {
  auto refused = touchpass({"list", "--user", "root"}, "", std::pair{kNobody, kNogroup});
  EXPECT_EQ(refused.exit_code, 4) << refused.err;
  EXPECT_NE(refused.err.find("Only root"), std::string::npos) << refused.err;
  auto own = touchpass({"list"}, "", std::pair{kNobody, kNogroup});
  EXPECT_EQ(own.exit_code, 0) << own.err;
}

TEST_F(CliFlowTest, BadArgumentsExitTwoWithAClearMessageAndIssueNothing) {
  ASSERT_EQ(touchpass({"enroll", "--pin-stdin"}, "123456\n").exit_code, 0);
  const auto unknown = touchpass({"lst"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("Unknown command \"lst\". Did you mean \"list\"?"), std::string::npos)
      << unknown.err;
  const auto nothing = run_command({TOUCHPASS_BINARY});
  EXPECT_EQ(nothing.exit_code, 2);
  EXPECT_NE(nothing.err.find("Usage: touchpass"), std::string::npos) << nothing.err;
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"issue", "", "--scope", "all", "--pin-stdin"},
           {"issue", "mail ", "--scope", "all", "--pin-stdin"},
           {"issue", "mail", "--scope", "all", "--expires", "tomorrow", "--pin-stdin"},
           {"issue", "mail", "--scope", "all", "-e", "1999-12-31", "--pin-stdin"},
           {"issue", "mail", "--scope", "im ap", "--pin-stdin"},
           {"issue", "mail", "--pin-stdin"},
           {"issue", "mail", "--scope", "imap,imap", "--pin-stdin"},
           {"issue", "mail", "--scope", "all", "--slot", "1", "--pin-stdin"},
           {"show", "", "--pin-stdin"},
           {"rename", "mail", ""},
           {"revoke"}}) {
    const auto refused = touchpass(args, "123456\n");
    EXPECT_EQ(refused.exit_code, 2) << args[0] << " " << args[1] << ": " << refused.err;
    EXPECT_FALSE(refused.err.empty());
    EXPECT_EQ(refused.err.find("Touch your security key"), std::string::npos) << refused.err;
  }
  EXPECT_TRUE(listed_names().empty());
}

// --copy with no clipboard (no graphical session, no clipboard tool) fails, prints no password,
// and for issue fails before the key is asked, so nothing is issued.
TEST_F(CliFlowTest, CopyWithoutAClipboardFailsAndNeverPrintsThePassword) {
  ASSERT_EQ(touchpass({"enroll", "--pin-stdin"}, "123456\n").exit_code, 0);
  const std::vector<std::string> headless = {"DISPLAY=", "WAYLAND_DISPLAY=", "PATH=/nonexistent"};
  const auto copied = touchpass({"issue", "mail", "--scope", "all", "--copy", "--pin-stdin"},
                                "123456\n", std::nullopt, headless);
  EXPECT_EQ(copied.exit_code, 1) << copied.err;
  EXPECT_EQ(copied.out, "");
  EXPECT_NE(copied.err.find("There is no clipboard here"), std::string::npos) << copied.err;
  EXPECT_NE(copied.err.find("Nothing was issued"), std::string::npos) << copied.err;
  EXPECT_EQ(copied.err.find("Touch your security key"), std::string::npos) << copied.err;
  EXPECT_TRUE(listed_names().empty());

  // With a display but no tool for it: the same, for show.
  const auto issued = touchpass({"issue", "mail", "--scope", "all", "--pin-stdin"}, "123456\n");
  ASSERT_EQ(issued.exit_code, 0) << issued.err;
  ASSERT_TRUE(std::regex_match(issued.out, kPassword)) << issued.out;
  const std::string password = issued.out.substr(0, 24);
  const auto shown = touchpass({"show", "mail", "-c", "--pin-stdin"}, "123456\n", std::nullopt,
                               {"DISPLAY=:0", "WAYLAND_DISPLAY=", "PATH=/nonexistent"});
  EXPECT_EQ(shown.exit_code, 1) << shown.err;
  EXPECT_EQ(shown.out, "");
  EXPECT_EQ(shown.err.find(password), std::string::npos) << shown.err;
  EXPECT_NE(shown.err.find("No clipboard tool"), std::string::npos) << shown.err;
  EXPECT_EQ(listed_names(), std::vector<std::string>{"mail"});
}

// The bash completion's source: names and labels one a line, nothing at all without a daemon.
TEST_F(CliFlowTest, CompletionListsIssuedNamesAndEnrolledLabels) {
  ASSERT_EQ(touchpass({"enroll", "-l", "work key", "--pin-stdin"}, "123456\n").exit_code, 0);
  ASSERT_EQ(touchpass({"issue", "my mail", "--scope", "all", "--pin-stdin"}, "123456\n").exit_code,
            0);
  ASSERT_EQ(
      touchpass({"issue", "it's \"odd\"", "--scope", "all", "--pin-stdin"}, "123456\n").exit_code,
      0);
  ASSERT_EQ(touchpass({"issue", "gone", "--scope", "all", "--pin-stdin"}, "123456\n").exit_code, 0);
  ASSERT_EQ(touchpass({"revoke", "gone"}).exit_code, 0);
  const auto names = touchpass({"__complete", "names"});
  EXPECT_EQ(names.exit_code, 0);
  std::multiset<std::string> lines;  // in the daemon's order, whatever it is
  std::istringstream out(names.out);
  for (std::string line; std::getline(out, line);) lines.insert(line);
  EXPECT_EQ(lines, (std::multiset<std::string>{"my mail", "it's \"odd\""})) << names.out;
  EXPECT_EQ(names.out.back(), '\n');
  EXPECT_EQ(names.err, "");
  const auto labels = touchpass({"__complete", "tokens"});
  EXPECT_EQ(labels.exit_code, 0);
  EXPECT_EQ(labels.out, "work key\n");

  deployment_.stop_daemon();
  const auto none = touchpass({"__complete", "names"});
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_EQ(none.out, "");
  EXPECT_EQ(none.err, "");
}

TEST_F(CliFlowTest, DaemonNotRunningIsExitCode3) {
  deployment_.stop_daemon();
  auto result = touchpass({"list"});
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_NE(result.err.find("not running"), std::string::npos) << result.err;
}

// touchpassd opens no key (DESIGN.md §2): traced through enroll, issue and show, it opens no
// device node and connects to no virtual token; the CLI does all of that.
TEST(TracedDaemonTest, OpensNoDeviceAndConnectsToNoTokenDuringEnrollIssueAndShow) {
  const char* strace = "/usr/bin/strace";
  if (!fs::exists(strace)) GTEST_SKIP() << "strace is not installed (.ci/install-deps --tests)";
  if (run_command({strace, "-o", "/dev/null", "/bin/true"}).exit_code != 0) {
    GTEST_SKIP() << "this machine does not allow tracing (ptrace)";
  }
  const fs::path trace =
      fs::temp_directory_path() / ("touchpass-trace-" + std::to_string(::getpid()) + ".txt");
  Deployment::Options options;
  options.daemon_wrapper = {strace, "-f",          "-qq", "-e", "trace=open,openat,openat2,connect",
                            "-o",   trace.string()};
  Deployment deployment(options);
  ASSERT_TRUE(deployment.start_token());
  ASSERT_TRUE(deployment.start_daemon()) << deployment.daemon_log();
  const auto touchpass = [&](std::vector<std::string> args) {
    auto argv = deployment.cli();
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, "123456\n");
  };
  const auto enrolled = touchpass({"enroll", "--pin-stdin"});
  ASSERT_EQ(enrolled.exit_code, 0) << enrolled.err;
  const auto issued = touchpass({"issue", "mail", "--scope", "all", "--pin-stdin"});
  ASSERT_EQ(issued.exit_code, 0) << issued.err;
  const auto shown = touchpass({"show", "mail", "--pin-stdin"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(shown.out, issued.out);
  // strace blocks fatal signals while it runs a program: stop the daemon itself, then strace
  // ends with it.
  const std::string tracer = std::to_string(deployment.daemon_pid());
  pid_t daemon = 0;
  std::ifstream("/proc/" + tracer + "/task/" + tracer + "/children") >> daemon;
  ASSERT_GT(daemon, 0);
  ASSERT_EQ(::kill(daemon, SIGTERM), 0);
  deployment.stop_daemon();

  const std::string traced = read_file(trace);
  fs::remove(trace);
  ASSERT_NE(traced.find("touchpass.db"), std::string::npos) << "the trace caught nothing";
  EXPECT_EQ(traced.find(deployment.virtual_dir().string()), std::string::npos) << traced;
  for (const char* device : {"\"/dev/hidraw", "\"/dev/bus/usb", "\"/dev/uhid", "\"/dev/usb"}) {
    EXPECT_EQ(traced.find(device), std::string::npos) << device << " in\n" << traced;
  }
}

}  // namespace
}  // namespace touchpass::testing
