// The four checks of DESIGN.md §5.4, each on its own, and the source restriction (issue 14).
#include "core/verify_policy.h"

#include <gtest/gtest.h>

namespace touchpass {
namespace {

constexpr std::int64_t kNow = 1764000000;

VerifyContext from(std::string_view user, std::string_view service, std::string_view remote = "") {
  return {user, service, remote};
}

TEST(VerifyPolicyTest, EachConditionRefusesOnItsOwn) {
  const std::vector<std::string> scopes = {"imap", "smtp"};
  const GrantFacts good{"alice", "mail", &scopes, nullptr, false, 0, false};
  EXPECT_EQ(decide(good, from("alice", "imap"), kNow), VerifyDecision::accepted);
  EXPECT_EQ(decide(good, from("bob", "imap"), kNow), VerifyDecision::other_user);
  EXPECT_EQ(decide(good, from("alice", "pop3"), kNow), VerifyDecision::wrong_service);
  GrantFacts revoked = good;
  revoked.revoked = true;
  EXPECT_EQ(decide(revoked, from("alice", "imap"), kNow), VerifyDecision::revoked);
  GrantFacts expired = good;
  expired.expires = kNow;
  EXPECT_EQ(decide(expired, from("alice", "imap"), kNow), VerifyDecision::expired);
  expired.expires = kNow + 1;
  EXPECT_EQ(decide(expired, from("alice", "imap"), kNow), VerifyDecision::accepted);
  GrantFacts token = good;
  token.token_revoked = true;
  EXPECT_EQ(decide(token, from("alice", "imap"), kNow), VerifyDecision::token_revoked);
}

TEST(VerifyPolicyTest, NoScopesMeansEveryService) {
  const std::vector<std::string> none;
  EXPECT_EQ(decide({"alice", "any", &none, nullptr, false, 0, false}, from("alice", "sieve"), kNow),
            VerifyDecision::accepted);
}

TEST(VerifyPolicyTest, ARestrictedGrantIsAcceptedOnlyFromItsNetworks) {
  const std::vector<std::string> scopes;
  const std::vector<std::string> networks = {"192.0.2.0/24", "2001:db8::/32"};
  const GrantFacts grant{"alice", "mail", &scopes, &networks, false, 0, false};
  EXPECT_EQ(decide(grant, from("alice", "imap", "192.0.2.77"), kNow), VerifyDecision::accepted);
  EXPECT_EQ(decide(grant, from("alice", "imap", "::ffff:192.0.2.77"), kNow),
            VerifyDecision::accepted);
  EXPECT_EQ(decide(grant, from("alice", "imap", "2001:db8:5::1"), kNow), VerifyDecision::accepted);
  EXPECT_EQ(decide(grant, from("alice", "imap", "198.51.100.1"), kNow),
            VerifyDecision::wrong_source);
  EXPECT_EQ(decide(grant, from("alice", "imap", "2001:db9::1"), kNow),
            VerifyDecision::wrong_source);
  // Fail closed: no address, or one that is not an address.
  EXPECT_EQ(decide(grant, from("alice", "imap", ""), kNow), VerifyDecision::wrong_source);
  EXPECT_EQ(decide(grant, from("alice", "imap", "mail.example.org"), kNow),
            VerifyDecision::wrong_source);
  // The other checks come first: a refusal names the most basic reason.
  EXPECT_EQ(decide(grant, from("bob", "imap", "198.51.100.1"), kNow), VerifyDecision::other_user);
}

TEST(VerifyPolicyTest, AnUnrestrictedGrantIsAcceptedWithoutAnAddress) {
  const std::vector<std::string> none;
  EXPECT_EQ(decide({"alice", "any", &none, &none, false, 0, false}, from("alice", "imap"), kNow),
            VerifyDecision::accepted);
}

TEST(VerifyPolicyTest, ReasonsNameTheGrant) {
  const std::vector<std::string> networks = {"192.0.2.0/24"};
  const GrantFacts grant{"alice", "mail", nullptr, &networks, false, 0, false};
  EXPECT_EQ(refusal_reason(VerifyDecision::wrong_service, &grant, from("alice", "smtp")),
            "app password \"mail\" is not for smtp");
  EXPECT_EQ(refusal_reason(VerifyDecision::unknown, nullptr, from("alice", "imap")),
            "unknown password");
  EXPECT_EQ(
      refusal_reason(VerifyDecision::wrong_source, &grant, from("alice", "imap", "198.51.100.1")),
      "app password \"mail\" is not for address 198.51.100.1 (restricted to 192.0.2.0/24)");
  EXPECT_EQ(refusal_reason(VerifyDecision::wrong_source, &grant, from("alice", "imap")),
            "app password \"mail\" is not for a client without an address (restricted to "
            "192.0.2.0/24)");
}

TEST(VerifyPolicyTest, AWrongSourceReasonNamesAFewNetworksOnly) {
  const std::vector<std::string> networks = {"10.0.0.0/8", "10.1.0.0/16", "10.2.0.0/16",
                                             "10.3.0.0/16", "10.4.0.0/16"};
  const GrantFacts grant{"alice", "mail", nullptr, &networks, false, 0, false};
  EXPECT_EQ(
      refusal_reason(VerifyDecision::wrong_source, &grant, from("alice", "imap", "192.0.2.1")),
      "app password \"mail\" is not for address 192.0.2.1 (restricted to "
      "10.0.0.0/8,10.1.0.0/16,10.2.0.0/16 and 2 more)");
}

}  // namespace
}  // namespace touchpass
