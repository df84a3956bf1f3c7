// invite in the daemon's request handlers (service_fixture.h): who may invite whom, for how
// long, and what is stored — the code's hash, never the code.
#include <gtest/gtest.h>

#include "core/invitation_code.h"
#include "service_fixture.h"

namespace touchpass::daemon {
namespace {

class InvitationTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    config_.web_origin = *parse_web_origin("https://mail.example.test:8443");
  }
  static ipc::Request invite(std::optional<std::string> user = std::nullopt,
                             std::int64_t expires = 0) {
    ipc::Request r = request(ipc::Op::invite);
    r.user = std::move(user);
    r.expires = expires;
    return r;
  }
};

TEST_F(InvitationTest, AUserInvitesThemselvesForADayAndOnlyTheHashIsStored) {
  const auto invited = handle(user_peer("alice", 1001), invite());
  ASSERT_TRUE(invited.ok()) << invited.error().message;
  EXPECT_EQ(invited->result.at("user"), "alice");
  EXPECT_EQ(invited->result.at("expires"), kStart + 86400);
  EXPECT_EQ(invited->result.at("origin"), "https://mail.example.test:8443");
  EXPECT_EQ(invited->result.dump().find(std::string(invited->secret.view())), std::string::npos)
      << "the code travels only in the secret part";

  const auto hash = invitation_code_hash(invited->secret.view());
  ASSERT_TRUE(hash.ok()) << hash.error().message;
  const auto stored = store_->find_invitation(*hash);
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  EXPECT_EQ(stored->user, "alice");
  EXPECT_EQ(stored->created_by, "alice");
  EXPECT_EQ(stored->expires, kStart + 86400);
  EXPECT_EQ(audit_actions().back(), "invite:ok");
}

TEST_F(InvitationTest, OnlyAnAdminInvitesSomeoneElse) {
  const auto refused = handle(user_peer("alice", 1001), invite("bob"));
  EXPECT_EQ(refused.code(), Code::permission_denied);
  const auto invited = handle(root_peer(), invite("bob"));
  ASSERT_TRUE(invited.ok()) << invited.error().message;
  const auto stored = store_->find_invitation(*invitation_code_hash(invited->secret.view()));
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->user, "bob");
  EXPECT_EQ(stored->created_by, "root");
}

TEST_F(InvitationTest, ExpiryIsInTheFutureAndWithinAMonth) {
  EXPECT_EQ(handle(root_peer(), invite("bob", kStart)).code(), Code::invalid_argument);
  EXPECT_EQ(handle(root_peer(), invite("bob", kStart + 31 * 86400)).code(), Code::invalid_argument);
  const auto week = handle(root_peer(), invite("bob", kStart + 7 * 86400));
  ASSERT_TRUE(week.ok()) << week.error().message;
  EXPECT_EQ(week->result.at("expires"), kStart + 7 * 86400);
}

TEST_F(InvitationTest, EachInvitationHasItsOwnCode) {
  const auto first = handle(root_peer(), invite("bob"));
  const auto second = handle(root_peer(), invite("bob"));
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(first->secret.view(), second->secret.view());
}

TEST_F(InvitationTest, WithoutAWebOriginThereIsNothingToInviteTo) {
  config_.web_origin.reset();
  const auto refused = handle(root_peer(), invite("bob"));
  ASSERT_EQ(refused.code(), Code::invalid_argument);
  EXPECT_NE(refused.error().message.find("web_origin"), std::string::npos);
}

}  // namespace
}  // namespace touchpass::daemon
