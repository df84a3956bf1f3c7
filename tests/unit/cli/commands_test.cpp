// Command lines against a fake daemon: listings, exit codes, usage errors, the unknown command,
// version and help, the completion helper, revoke --all, invite and unlock.
#include <gtest/gtest.h>

#include <string>

#include "cli/exit_code.h"
#include "command_fixture.h"

namespace touchpass::cli {
namespace {

using namespace testing;

TEST_F(CommandTest, ListPrintsATableOrTheJsonResult) {
  const Json result = {{"grants", {kGrant}}};
  auto table_daemon = listening_daemon([&](DaemonConnection& d) {
    EXPECT_EQ(d.next_json(), Json({{"v", 1}, {"op", "list"}, {"all_users", true}}));
    d.ok(result);
  });
  ASSERT_TRUE(table_daemon.ok()) << table_daemon.error().message;
  EXPECT_EQ(run(*table_daemon, {"list", "--all-users"}), 0);
  table_daemon->stop();
  EXPECT_EQ(console_.out_text.substr(0, 10), "USER   NAM");
  EXPECT_NE(console_.out_text.find("thunderbird  imap,smtp"), std::string::npos);

  console_.out_text.clear();
  auto json_daemon = listening_daemon([&](DaemonConnection& d) {
    d.next();
    d.ok(result);
  });
  ASSERT_TRUE(json_daemon.ok()) << json_daemon.error().message;
  EXPECT_EQ(run(*json_daemon, {"list", "--json"}), 0);
  json_daemon->stop();
  EXPECT_EQ(console_.out_text, result.dump(2) + "\n");
}

TEST_F(CommandTest, MalformedListingExitsOne) {
  auto daemon = listening_daemon([](DaemonConnection& d) {
    d.next();
    d.ok({{"tokens", "none"}});
  });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(run(*daemon, {"tokens"}), 1);
  daemon->stop();
  EXPECT_EQ(console_.out_text, "");
}

TEST_F(CommandTest, DaemonErrorsBecomeExitCodes) {
  const std::vector<std::pair<Code, int>> cases = {
      {Code::not_found, 7},        {Code::permission_denied, 4}, {Code::invalid_argument, 2},
      {Code::presence_timeout, 5}, {Code::internal, 1},          {Code::cancelled, 6}};
  for (const auto& [code, exit] : cases) {
    console_.err_text.clear();
    auto daemon = listening_daemon([code = code](DaemonConnection& d) {
      d.next();
      d.error(code, "Sentence for " + std::string(code_name(code)) + ".");
    });
    ASSERT_TRUE(daemon.ok()) << daemon.error().message;
    EXPECT_EQ(run(*daemon, {"rename", "a", "b"}), exit) << code_name(code);
    daemon->stop();
    EXPECT_EQ(console_.err_text, "Sentence for " + std::string(code_name(code)) + ".\n");
  }
}

TEST_F(CommandTest, UnreachableDaemonExitsThree) {
  auto daemon = listening_daemon([](DaemonConnection&) {});
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  daemon->stop();
  const std::string missing = daemon->path() + ".missing";
  EXPECT_EQ(run_touchpass(std::vector<std::string>{"touchpass", "--socket", missing, "list"}, env_),
            3);
  EXPECT_EQ(console_.err_text, "touchpassd is not running (cannot connect to " + missing + ").\n");
}

TEST_F(CommandTest, UsageErrorsExitTwoWithoutContactingTheDaemon) {
  auto daemon =
      listening_daemon([](DaemonConnection&) { ADD_FAILURE() << "the daemon was contacted"; });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(run(*daemon, {"issue", "x", "--scope", "all", "--expires", "soon"}), 2);
  EXPECT_NE(console_.err_text.find("Invalid --expires value \"soon\""), std::string::npos);
  EXPECT_EQ(run(*daemon, {"invite", "--expires", "never"}), 2);
  EXPECT_NE(console_.err_text.find("within 30 days"), std::string::npos);
  EXPECT_EQ(run(*daemon, {"revoke"}), 2);
  EXPECT_EQ(run(*daemon, {"revoke", "x", "--all"}), 2);
  EXPECT_EQ(run(*daemon, {"issue"}), 2);
  EXPECT_EQ(run(*daemon, {"log", "--limit", "0"}), 2);
  EXPECT_EQ(run(*daemon, {"frobnicate"}), 2);
  // Names and scopes the daemon would refuse (some only after the key was touched).
  console_.err_text.clear();
  EXPECT_EQ(run(*daemon, {"issue", "", "--scope", "all"}), 2);
  EXPECT_NE(console_.err_text.find("The app password name must be 1 to 64 characters long."),
            std::string::npos)
      << console_.err_text;
  EXPECT_EQ(run(*daemon, {"issue", " x", "--scope", "all"}), 2);
  EXPECT_EQ(run(*daemon, {"issue", "x\x1b[2J", "--scope", "all"}), 2);
  EXPECT_EQ(run(*daemon, {"issue", std::string(65, 'x')}), 2);
  console_.err_text.clear();
  EXPECT_EQ(run(*daemon, {"issue", "x", "--scope", "im ap"}), 2);
  EXPECT_NE(console_.err_text.find("Scope 1 is not valid"), std::string::npos) << console_.err_text;
  EXPECT_EQ(run(*daemon, {"issue", "x", "-s", "imap,imap"}), 2);
  EXPECT_EQ(run(*daemon, {"issue", "x", "--scope", "all", "-e", "2001-01-01"}), 2);
  EXPECT_EQ(run(*daemon, {"show", ""}), 2);
  EXPECT_EQ(run(*daemon, {"rename", "", "y"}), 2);
  console_.err_text.clear();
  EXPECT_EQ(run(*daemon, {"rename", "x", ""}), 2);
  EXPECT_NE(console_.err_text.find("The new name is not valid"), std::string::npos)
      << console_.err_text;
  EXPECT_EQ(run(*daemon, {"revoke", ""}), 2);
  EXPECT_EQ(run(*daemon, {"revoke", "--token", ""}), 2);
  EXPECT_EQ(run(*daemon, {"revoke", "-a", "-t", "key"}), 2);
  daemon->stop();
}

TEST_F(CommandTest, IssueNeedsScopesOrAllAndNeverDefaultsToEveryService) {
  auto daemon =
      listening_daemon([](DaemonConnection&) { ADD_FAILURE() << "the daemon was contacted"; });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(run(*daemon, {"issue", "x"}), 2);
  EXPECT_NE(console_.err_text.find("--scope all for every service"), std::string::npos)
      << console_.err_text;
  EXPECT_EQ(run(*daemon, {"issue", "x", "--scope", ""}), 2);
  EXPECT_EQ(run(*daemon, {"issue", "x", "--scope", " , "}), 2);
  EXPECT_EQ(run(*daemon, {"issue", "x", "--scope", "imap,ALL"}), 2);
  EXPECT_NE(console_.err_text.find("give it alone"), std::string::npos) << console_.err_text;
  daemon->stop();
}

TEST_F(CommandTest, AnUnknownCommandIsNamedWithTheNearestOne) {
  auto daemon =
      listening_daemon([](DaemonConnection&) { ADD_FAILURE() << "the daemon was contacted"; });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(run(*daemon, {"lst"}), 2);
  EXPECT_EQ(console_.err_text,
            "Unknown command \"lst\". Did you mean \"list\"?\n`touchpass --help` lists the "
            "commands.\n");
  console_.err_text.clear();
  EXPECT_EQ(run(*daemon, {"--no-usb", "frobnicate", "--json"}), 2);
  EXPECT_EQ(console_.err_text,
            "Unknown command \"frobnicate\".\n`touchpass --help` lists the commands.\n");
  console_.err_text.clear();
  EXPECT_EQ(run(*daemon, {"sh\x1b]0;x"}), 2);  // echoed without the control character
  EXPECT_EQ(console_.err_text.find('\x1b'), std::string::npos) << console_.err_text;
  daemon->stop();
  EXPECT_EQ(console_.out_text, "");
}

TEST_F(CommandTest, NoCommandPrintsAShortUsage) {
  EXPECT_EQ(run_touchpass(std::vector<std::string>{"touchpass"}, env_), 2);
  EXPECT_EQ(console_.out_text, "");
  EXPECT_EQ(console_.err_text.substr(0, console_.err_text.find('\n')),
            "Usage: touchpass [OPTIONS] COMMAND [ARGS]...");
  EXPECT_NE(console_.err_text.find(
                "Commands: enroll tokens devices issue show list services revoke rename "
                "log unlock invite verify\n"),
            std::string::npos)
      << console_.err_text;
  EXPECT_LT(std::count(console_.err_text.begin(), console_.err_text.end(), '\n'), 5);
  console_.err_text.clear();
  EXPECT_EQ(run_touchpass(std::vector<std::string>{"touchpass", "--no-usb"}, env_), 2);
  EXPECT_NE(console_.err_text.find("Usage: touchpass"), std::string::npos);
}

TEST_F(CommandTest, VersionPrintsTheProjectVersion) {
  EXPECT_EQ(run_touchpass(std::vector<std::string>{"touchpass", "--version"}, env_), 0);
  EXPECT_EQ(console_.out_text, "touchpass " TOUCHPASS_VERSION "\n");
}

// The hidden command behind the bash completion.
TEST_F(CommandTest, CompleteListsActiveNamesAndLabelsOneALine) {
  const Json grants = {{"grants",
                        {{{"name", "thunderbird"}},
                         {{"name", "my phone"}},
                         {{"name", "old"}, {"revoked", 60}},
                         {{"name", "bad\nname"}},
                         {{"name", "it's \"odd\" $x"}}}}};
  auto daemon = listening_daemon([&](DaemonConnection& d) {
    EXPECT_EQ(d.next_json(), Json({{"v", 1}, {"op", "list"}, {"user", "bob"}}));
    d.ok(grants);
  });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(run(*daemon, {"__complete", "names", "--user", "bob"}), 0);
  daemon->stop();
  EXPECT_EQ(console_.out_text, "thunderbird\nmy phone\nit's \"odd\" $x\n");

  console_.out_text.clear();
  const Json tokens = {{"tokens", {{{"label", "desk key"}}, {{"label", "lost"}, {"revoked", 1}}}}};
  auto tokens_daemon = listening_daemon([&](DaemonConnection& d) {
    EXPECT_EQ(d.next_json()["op"], "tokens");
    d.ok(tokens);
  });
  ASSERT_TRUE(tokens_daemon.ok()) << tokens_daemon.error().message;
  EXPECT_EQ(run(*tokens_daemon, {"__complete", "tokens"}), 0);
  tokens_daemon->stop();
  EXPECT_EQ(console_.out_text, "desk key\n");
  EXPECT_EQ(console_.err_text, "");
}

TEST_F(CommandTest, CompleteIsSilentWithoutADaemonOrWithAServer) {
  EXPECT_EQ(run_touchpass(std::vector<std::string>{"touchpass", "--socket", "/nonexistent/sock",
                                                   "__complete", "names"},
                          env_),
            0);
  EXPECT_EQ(run_touchpass(std::vector<std::string>{"touchpass", "--server", "https://127.0.0.1:9",
                                                   "__complete", "names"},
                          env_),
            0);
  auto failing = listening_daemon([](DaemonConnection& d) {
    d.next();
    d.error(Code::permission_denied, "Only root may act for another user.");
  });
  ASSERT_TRUE(failing.ok()) << failing.error().message;
  EXPECT_EQ(run(*failing, {"__complete", "names", "-u", "root"}), 0);
  failing->stop();
  EXPECT_EQ(console_.out_text, "");
  EXPECT_EQ(console_.err_text, "");
}

TEST_F(CommandTest, CompleteIsNotListedInHelp) {
  EXPECT_EQ(run_touchpass(std::vector<std::string>{"touchpass", "--help"}, env_), 0);
  EXPECT_EQ(console_.out_text.find("__complete"), std::string::npos);
}

TEST_F(CommandTest, HelpExitsZeroAndListsExitCodes) {
  auto daemon = listening_daemon([](DaemonConnection&) {});
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(run(*daemon, {"--help"}), 0);
  EXPECT_NE(console_.out_text.find("Exit codes:"), std::string::npos);
  console_.out_text.clear();
  EXPECT_EQ(run(*daemon, {"revoke", "--help"}), 0);
  EXPECT_NE(console_.out_text.find("--yes"), std::string::npos);
  daemon->stop();
}

TEST_F(CommandTest, RevokeAllWithoutTerminalRefusesUnlessYes) {
  int requests = 0;
  auto daemon = listening_daemon([&requests](DaemonConnection& d) {
    EXPECT_EQ(d.next_json()["op"], "list");
    ++requests;
    d.ok({{"grants", {kGrant}}});
    EXPECT_FALSE(d.read({1000ms, 1000ms}).ok()) << "revoked without asking";
  });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  console_.confirm_answer = std::nullopt;
  EXPECT_EQ(run(*daemon, {"revoke", "--all", "--user", "alice"}), 2);
  daemon->stop();
  EXPECT_EQ(requests, 1);
  EXPECT_NE(console_.err_text.find("add --yes"), std::string::npos);
}

TEST_F(CommandTest, RevokeAllAsksWithTheCount) {
  Json revoke;
  auto daemon = listening_daemon([&revoke](DaemonConnection& d) {
    d.next();
    Json revoked = kGrant;
    revoked["revoked"] = kNow;
    d.ok({{"grants", {kGrant, kGrant, revoked}}});
    revoke = d.next_json();
    d.ok({{"revoked", 2}});
  });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  console_.confirm_answer = true;
  EXPECT_EQ(run(*daemon, {"revoke", "--all", "--user", "alice"}), 0);
  daemon->stop();
  ASSERT_EQ(console_.questions.size(), 1U);
  EXPECT_EQ(console_.questions[0], "Revoke all 2 app passwords of alice? [y/N] ");
  EXPECT_EQ(revoke, Json({{"v", 1}, {"op", "revoke"}, {"all", true}, {"user", "alice"}}));
  EXPECT_EQ(console_.out_text, "Revoked 2 app password(s) of alice.\n");
}

TEST_F(CommandTest, RevokeAllDeclinedIsCancelled) {
  auto daemon = listening_daemon([](DaemonConnection& d) {
    d.next();
    d.ok({{"grants", {kGrant}}});
  });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  console_.confirm_answer = false;
  EXPECT_EQ(run(*daemon, {"revoke", "--all"}), 6);
  daemon->stop();
}

TEST_F(CommandTest, RevokeAllWithYesDoesNotAsk) {
  auto daemon = listening_daemon([](DaemonConnection& d) {
    EXPECT_EQ(d.next_json(), Json({{"v", 1}, {"op", "revoke"}, {"all", true}}));
    d.ok({{"revoked", 3}});
  });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(run(*daemon, {"revoke", "--all", "--yes"}), 0);
  daemon->stop();
  EXPECT_TRUE(console_.questions.empty());
}

TEST_F(CommandTest, InvitePrintsTheLinkAndTheCode) {
  auto daemon = listening_daemon([](DaemonConnection& d) {
    EXPECT_EQ(d.next_json(),
              Json({{"v", 1}, {"op", "invite"}, {"user", "bob"}, {"expires", kNow + 7 * 86400}}));
    d.ok({{"user", "bob"}, {"expires", kNow + 7 * 86400}, {"origin", "https://mail.example.test"}},
         "d9tn-8rp3-n70q-kcw9-nvpp");
  });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(run(*daemon, {"invite", "--user", "bob", "--expires", "7d"}), 0) << console_.err_text;
  daemon->stop();
  EXPECT_NE(console_.out_text.find("Invitation for bob, single use, valid until"),
            std::string::npos)
      << console_.out_text;
  EXPECT_NE(
      console_.out_text.find("  https://mail.example.test/#invite=d9tn-8rp3-n70q-kcw9-nvpp\n"),
      std::string::npos)
      << console_.out_text;
  EXPECT_NE(console_.out_text.find("or enter the code d9tn-8rp3-n70q-kcw9-nvpp on "
                                   "https://mail.example.test."),
            std::string::npos)
      << console_.out_text;
}

TEST_F(CommandTest, InviteAsJsonCarriesTheCode) {
  auto daemon = listening_daemon([](DaemonConnection& d) {
    EXPECT_EQ(d.next_json(), Json({{"v", 1}, {"op", "invite"}, {"expires", kNow + 86400}}));
    d.ok({{"user", "alice"}, {"expires", kNow + 86400}, {"origin", "https://mail.example.test"}},
         "d9tn-8rp3-n70q-kcw9-nvpp");
  });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(run(*daemon, {"invite", "--json"}), 0) << console_.err_text;
  daemon->stop();
  const Json printed = Json::parse(console_.out_text);
  EXPECT_EQ(printed.at("code"), "d9tn-8rp3-n70q-kcw9-nvpp");
  EXPECT_EQ(printed.at("user"), "alice");
}

TEST_F(CommandTest, InviteRefusesAHostileAnswerAndANeverExpiry) {
  auto daemon = listening_daemon([](DaemonConnection& d) {
    d.next_json();
    d.ok({{"user", "alice"}, {"expires", kNow + 86400}, {"origin", "javascript:alert(1)//"}},
         "d9tn-8rp3-n70q-kcw9-nvpp");
  });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_NE(run(*daemon, {"invite"}), 0);
  daemon->stop();
  EXPECT_EQ(console_.out_text, "");
  EXPECT_NE(console_.err_text.find("malformed invitation"), std::string::npos) << console_.err_text;

  auto second = listening_daemon([](DaemonConnection& d) {
    d.next_json();
    d.ok({{"user", "alice"}, {"expires", kNow + 86400}, {"origin", "https://mail.example.test"}},
         "\x1b]52;c;evil\x07");
  });
  ASSERT_TRUE(second.ok());
  EXPECT_NE(run(*second, {"invite"}), 0);
  second->stop();
  EXPECT_EQ(console_.out_text.find("\x1b"), std::string::npos);
}

TEST_F(CommandTest, UnlockSendsWhatToUnlockAndSaysHowMany) {
  Json request;
  auto daemon = listening_daemon([&request](DaemonConnection& d) {
    request = d.next_json();
    d.ok({{"unlocked", 2}});
  });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(run(*daemon, {"unlock", "--user", "alice"}), 0);
  daemon->stop();
  EXPECT_EQ(request["op"], "unlock");
  EXPECT_EQ(request["user"], "alice");
  EXPECT_FALSE(request.contains("source"));
  EXPECT_EQ(console_.out_text, "Unlocked 2 sources.\n");
}

TEST_F(CommandTest, UnlockWithoutWhatToUnlockIsAUsageError) {
  auto daemon = listening_daemon([](DaemonConnection&) {});
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(run(*daemon, {"unlock"}), 2);
  EXPECT_EQ(run(*daemon, {"unlock", "--source", "192.0.2.7", "--all"}), 2);
  daemon->stop();
  EXPECT_NE(console_.err_text.find("--source ADDRESS, --user NAME or --all"), std::string::npos)
      << console_.err_text;
}

}  // namespace
}  // namespace touchpass::cli
