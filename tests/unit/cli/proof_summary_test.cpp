// What `touchpass log --verify` says of the proofs the daemon re-verified: read strictly from the
// answer, failures named (made printable), and the counts when everything verifies.
#include "cli/proof_summary.h"

#include <gtest/gtest.h>

namespace touchpass::cli {
namespace {

using ipc::Json;

Json clean_answer() {
  return {{"entries", Json::array()},
          {"chain_ok", true},
          {"proofs_checked", 2},
          {"proofs_failed", 0},
          {"proof_errors", Json::array()},
          {"shows_checked", 3},
          {"shows_failed", 0},
          {"show_errors", Json::array()},
          {"shows_unchecked", 0}};
}

TEST(ProofSummary, ReadsTheCountsAndSaysHowManyVerify) {
  const auto summary = read_proof_summary(clean_answer());
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_FALSE(summary->failed());
  EXPECT_EQ(proof_failure_lines(*summary), "");
  EXPECT_EQ(proof_success_lines(*summary),
            "The proofs of 2 app password(s) and of 3 show(s) verify with their security keys.\n");
}

TEST(ProofSummary, SaysHowManyShowsCouldNotBeChecked) {
  Json answer = clean_answer();
  answer["shows_unchecked"] = 4;
  const auto summary = read_proof_summary(answer);
  ASSERT_TRUE(summary.ok());
  EXPECT_FALSE(summary->failed());
  EXPECT_NE(proof_success_lines(*summary).find(
                "4 show(s) from before touchpass kept show proofs could not be checked."),
            std::string::npos);
}

TEST(ProofSummary, RefusesAnAnswerWithoutEveryField) {
  for (const char* field : {"proofs_checked", "proofs_failed", "proof_errors", "shows_checked",
                            "shows_failed", "show_errors", "shows_unchecked"}) {
    Json missing = clean_answer();
    missing.erase(field);
    const auto summary = read_proof_summary(missing);
    ASSERT_FALSE(summary.ok()) << field;
    EXPECT_EQ(summary.code(), Code::protocol_error);
    EXPECT_NE(summary.error().message.find(std::string("(no ") + field + ")"), std::string::npos)
        << summary.error().message;
    Json mistyped = clean_answer();
    mistyped[field] = "1";
    EXPECT_EQ(read_proof_summary(mistyped).code(), Code::protocol_error) << field;
  }
}

TEST(ProofSummary, NamesAFailedShowByItsEntryAndMakesTheDaemonsTextPrintable) {
  Json answer = clean_answer();
  answer["shows_failed"] = 3;
  answer["show_errors"] = Json::array({{{"user", "alice"},
                                        {"name", "mail\x1b[2J"},
                                        {"seq", 42},
                                        {"error", "The key's signature does not verify."}}});
  const auto summary = read_proof_summary(answer);
  ASSERT_TRUE(summary.ok());
  EXPECT_TRUE(summary->failed());
  EXPECT_EQ(proof_failure_lines(*summary),
            "The proof of the show of \"mail?[2J\" (user alice, audit entry 42) does not verify: "
            "The key's signature does not verify.\n"
            "… and 2 more.\n");
  EXPECT_EQ(proof_failure_sentence(*summary),
            "3 show(s) of app passwords have a proof that does not verify with their key: their "
            "audit entries were changed outside touchpassd.");
}

TEST(ProofSummary, CountsFailedGrantsAndShowsTogether) {
  Json answer = clean_answer();
  answer["proofs_failed"] = 1;
  answer["proof_errors"] =
      Json::array({{{"user", "bob"}, {"name", "phone"}, {"error", "its client data …"}}});
  answer["shows_failed"] = 1;
  answer["show_errors"] = Json::array({{{"user", "bob"}, {"name", "phone"}, {"error", "x"}}});
  const auto summary = read_proof_summary(answer);
  ASSERT_TRUE(summary.ok());
  const std::string lines = proof_failure_lines(*summary);
  EXPECT_NE(lines.find("The proof of \"phone\" (user bob) does not verify: its client data …\n"),
            std::string::npos);
  EXPECT_NE(lines.find("The proof of the show of \"phone\" (user bob) does not verify: x\n"),
            std::string::npos);
  EXPECT_EQ(proof_failure_sentence(*summary),
            "1 app password(s) and 1 show(s) of app passwords have a proof that does not verify "
            "with their key: their records or audit entries were changed outside touchpassd.");
}

}  // namespace
}  // namespace touchpass::cli
