// The four checks of DESIGN.md §5.4, each on its own.
#include "core/verify_policy.h"

#include <gtest/gtest.h>

namespace touchpass {
namespace {

constexpr std::int64_t kNow = 1764000000;

TEST(VerifyPolicyTest, EachConditionRefusesOnItsOwn) {
  const std::vector<std::string> scopes = {"imap", "smtp"};
  const GrantFacts good{"alice", "mail", &scopes, false, 0, false};
  EXPECT_EQ(decide(good, "alice", "imap", kNow), VerifyDecision::accepted);
  EXPECT_EQ(decide(good, "bob", "imap", kNow), VerifyDecision::other_user);
  EXPECT_EQ(decide(good, "alice", "pop3", kNow), VerifyDecision::wrong_service);
  GrantFacts revoked = good;
  revoked.revoked = true;
  EXPECT_EQ(decide(revoked, "alice", "imap", kNow), VerifyDecision::revoked);
  GrantFacts expired = good;
  expired.expires = kNow;
  EXPECT_EQ(decide(expired, "alice", "imap", kNow), VerifyDecision::expired);
  expired.expires = kNow + 1;
  EXPECT_EQ(decide(expired, "alice", "imap", kNow), VerifyDecision::accepted);
  GrantFacts token = good;
  token.token_revoked = true;
  EXPECT_EQ(decide(token, "alice", "imap", kNow), VerifyDecision::token_revoked);
}

TEST(VerifyPolicyTest, NoScopesMeansEveryService) {
  const std::vector<std::string> none;
  EXPECT_EQ(decide({"alice", "any", &none, false, 0, false}, "alice", "sieve", kNow),
            VerifyDecision::accepted);
}

TEST(VerifyPolicyTest, ReasonsNameTheGrant) {
  EXPECT_EQ(refusal_reason(VerifyDecision::wrong_service, "mail", "smtp"),
            "app password \"mail\" is not for smtp");
  EXPECT_EQ(refusal_reason(VerifyDecision::unknown, "", "imap"), "unknown password");
}

}  // namespace
}  // namespace touchpass
