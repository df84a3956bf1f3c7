// `touchpass log --verify`: the audit chain's verdict and every grant's and show's proof, and
// answers that leave something out refused.
#include <gtest/gtest.h>

#include <string>

#include "cli/exit_code.h"
#include "command_fixture.h"

namespace touchpass::cli {
namespace {

using namespace testing;

// A `log --verify` answer with no entries: the chain's verdict, and `proofs_failed` of two grant
// proofs failing as `proof_errors` says (no shows).
Json verified_log(bool chain_ok, int proofs_failed, Json proof_errors = Json::array()) {
  return {{"entries", Json::array()},
          {"chain_ok", chain_ok},
          {"proofs_checked", 2},
          {"proofs_failed", proofs_failed},
          {"proof_errors", proof_errors},
          {"shows_checked", 0},
          {"shows_failed", 0},
          {"show_errors", Json::array()},
          {"shows_unchecked", 0}};
}

// One failed proof of alice's grant `name`, as the daemon lists it.
Json alice_proof_error(const std::string& name) {
  return Json::array(
      {{{"user", "alice"}, {"name", name}, {"error", "The key's signature does not verify."}}});
}

// `touchpass log --verify` against a daemon that answers one listing.
class LogVerifyCommandTest : public CommandTest {
 protected:
  // Runs `touchpass log --verify` against a daemon that answers `answer`; the exit status.
  int run_log_verify(const Json& answer);
};

int LogVerifyCommandTest::run_log_verify(const Json& answer) {
  auto daemon = listening_daemon([answer](DaemonConnection& d) {
    d.next_json();
    d.ok(answer);
  });
  EXPECT_TRUE(daemon.ok()) << daemon.error().message;
  if (!daemon.ok()) return -1;
  const int status = run(*daemon, {"log", "--verify"});
  daemon->stop();
  return status;
}

TEST_F(LogVerifyCommandTest, FailsOnABrokenChainAndSaysWhere) {
  auto daemon = listening_daemon([](DaemonConnection& d) {
    EXPECT_EQ(d.next_json(), Json({{"v", 1}, {"op", "log"}, {"limit", 5}, {"verify", true}}));
    Json answer = verified_log(false, 0);
    answer["chain_error"] = "Audit entry 4 has been altered or forged.\u001b[2J";
    d.ok(answer);
  });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(run(*daemon, {"log", "--limit", "5", "--verify"}), 1);
  daemon->stop();
  EXPECT_NE(console_.err_text.find("The audit log's hash chain is broken. Audit entry 4 has been "
                                   "altered or forged.?[2J"),
            std::string::npos)
      << console_.err_text;
  EXPECT_EQ(console_.err_text.find("intact"), std::string::npos);
}

TEST_F(LogVerifyCommandTest, WithABrokenChainStillNamesProofsThatFail) {
  EXPECT_EQ(run_log_verify(verified_log(false, 1, alice_proof_error("mail"))), 1);
  EXPECT_NE(console_.err_text.find("The proof of \"mail\" (user alice) does not verify"),
            std::string::npos)
      << console_.err_text;
  EXPECT_NE(console_.err_text.find("hash chain is broken. An entry was changed or removed. 1 app "
                                   "password(s)"),
            std::string::npos)
      << console_.err_text;
}

TEST_F(LogVerifyCommandTest, FailsOnAProofThatDoesNotVerifyAndNamesIt) {
  EXPECT_EQ(run_log_verify(verified_log(true, 1, alice_proof_error("mail\u009b2J"))), 1);
  EXPECT_NE(console_.err_text.find("The proof of \"mail?2J\" (user alice) does not verify"),
            std::string::npos)
      << console_.err_text;
  EXPECT_NE(console_.err_text.find("1 app password(s)"), std::string::npos);
}

TEST_F(LogVerifyCommandTest, FailsOnAShowWhoseProofDoesNotVerifyAndNamesIt) {
  Json answer = verified_log(true, 0);
  answer["shows_checked"] = 2;
  answer["shows_failed"] = 1;
  answer["show_errors"] = Json::array({{{"user", "alice"},
                                        {"name", "mail"},
                                        {"seq", 7},
                                        {"error", "The key's signature does not verify."}}});
  EXPECT_EQ(run_log_verify(answer), 1);
  EXPECT_NE(console_.err_text.find("The proof of the show of \"mail\" (user alice, audit entry 7) "
                                   "does not verify: The key's signature does not verify."),
            std::string::npos)
      << console_.err_text;
  EXPECT_NE(console_.err_text.find("1 show(s) of app passwords have a proof that does not verify"),
            std::string::npos)
      << console_.err_text;
}

TEST_F(LogVerifyCommandTest, SaysHowManyProofsVerify) {
  Json answer = verified_log(true, 0);
  answer["proofs_checked"] = 3;
  answer["shows_checked"] = 5;
  answer["shows_unchecked"] = 1;
  EXPECT_EQ(run_log_verify(answer), 0);
  EXPECT_NE(
      console_.err_text.find(
          "The proofs of 3 app password(s) and of 5 show(s) verify with their security keys."),
      std::string::npos)
      << console_.err_text;
  EXPECT_NE(console_.err_text.find("1 show(s) from before touchpass kept show proofs"),
            std::string::npos)
      << console_.err_text;
}

TEST_F(LogVerifyCommandTest, ForAUserTheChainIsNotCheckedButTheProofsAre) {
  Json answer = verified_log(true, 0);
  answer.erase("chain_ok");
  answer["chain_checked"] = false;
  EXPECT_EQ(run_log_verify(answer), 0);
  EXPECT_NE(console_.err_text.find("hash chain is checked by administrators only"),
            std::string::npos)
      << console_.err_text;
  EXPECT_NE(console_.err_text.find("The proofs of 2 app password(s)"), std::string::npos)
      << console_.err_text;
  // A checked chain must say how it is.
  answer["chain_checked"] = true;
  console_.err_text.clear();
  EXPECT_NE(run_log_verify(answer), 0);
  EXPECT_NE(console_.err_text.find("no chain_ok"), std::string::npos) << console_.err_text;
}

TEST_F(LogVerifyCommandTest, RefusesAnAnswerWithoutTheShowsCounts) {
  Json answer = verified_log(true, 0);
  for (const char* key : {"shows_checked", "shows_failed", "show_errors", "shows_unchecked"}) {
    answer.erase(key);
  }
  EXPECT_NE(run_log_verify(answer), 0);
  EXPECT_NE(console_.err_text.find("malformed answer (no show_errors)"), std::string::npos)
      << console_.err_text;
}

}  // namespace
}  // namespace touchpass::cli
