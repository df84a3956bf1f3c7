// WebSessions: short sessions of web users, bounded, by token; a fake clock.
#include "daemon/web_sessions.h"

#include <gtest/gtest.h>

#include <atomic>

namespace touchpass::daemon {
namespace {

constexpr store::UnixTime kStart = 1764000000;

class WebSessionsTest : public ::testing::Test {
 protected:
  WebSessions make(WebSessions::Limits limits = {}) {
    return WebSessions(limits, [this] { return now_.load(); });
  }
  std::atomic<store::UnixTime> now_{kStart};
};

TEST_F(WebSessionsTest, ATokenOpensItsUsersSessionUntilItIsClosed) {
  auto sessions = make();
  auto token = sessions.open("alice");
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->size(), kWebSessionTokenBytes);
  auto used = sessions.use(token->bytes());
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(used->user, "alice");
  EXPECT_EQ(used->expires, kStart + 15 * 60);
  sessions.close(token->bytes());
  EXPECT_EQ(sessions.use(token->bytes()).code(), Code::not_found);
}

TEST_F(WebSessionsTest, UnknownAndMalformedTokensOpenNothing) {
  auto sessions = make();
  ASSERT_TRUE(sessions.open("alice").ok());
  const Bytes zeros(kWebSessionTokenBytes, 0);
  EXPECT_EQ(sessions.use(zeros).code(), Code::not_found);
  EXPECT_EQ(sessions.use(Bytes{}).code(), Code::not_found);
  EXPECT_EQ(sessions.use(Bytes(kWebSessionTokenBytes + 1, 1)).code(), Code::not_found);
  EXPECT_NE(sessions.use(zeros).error().message.find("sign in again"), std::string::npos);
}

TEST_F(WebSessionsTest, IdleSessionsEndAndUseKeepsThemAliveUpToTheAbsoluteLimit) {
  auto sessions = make({.idle = std::chrono::seconds(600), .longest = std::chrono::seconds(1500)});
  auto token = sessions.open("alice");
  ASSERT_TRUE(token.ok());
  now_ += 599;
  ASSERT_TRUE(sessions.use(token->bytes()).ok());  // idle restarts
  now_ += 599;
  auto still = sessions.use(token->bytes());
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->expires, kStart + 1500) << "capped by the absolute limit";
  now_ = kStart + 1500;
  EXPECT_EQ(sessions.use(token->bytes()).code(), Code::not_found);

  auto idle = sessions.open("bob");
  ASSERT_TRUE(idle.ok());
  now_ += 600;
  EXPECT_EQ(sessions.use(idle->bytes()).code(), Code::not_found);
}

TEST_F(WebSessionsTest, AUsersOldestSessionMakesRoomAndTheTableIsBounded) {
  auto sessions = make({.per_user = 2, .total = 3});
  auto first = sessions.open("alice");
  now_ += 1;
  auto second = sessions.open("alice");
  now_ += 1;
  auto third = sessions.open("alice");
  ASSERT_TRUE(first.ok() && second.ok() && third.ok());
  EXPECT_EQ(sessions.use(first->bytes()).code(), Code::not_found) << "the oldest made room";
  EXPECT_TRUE(sessions.use(second->bytes()).ok());
  EXPECT_TRUE(sessions.use(third->bytes()).ok());

  ASSERT_TRUE(sessions.open("bob").ok());
  EXPECT_EQ(sessions.open("carol").code(), Code::busy);
  // Alice's own sessions never crowd out by the total: she replaces her oldest.
  EXPECT_TRUE(sessions.open("alice").ok());
  EXPECT_EQ(sessions.size(), 3u);
}

TEST_F(WebSessionsTest, CloseAllEndsEveryOneOfAUsersSessions) {
  auto sessions = make();
  auto a1 = sessions.open("alice");
  auto a2 = sessions.open("alice");
  auto b = sessions.open("bob");
  ASSERT_TRUE(a1.ok() && a2.ok() && b.ok());
  EXPECT_EQ(sessions.close_all("alice"), 2u);
  EXPECT_EQ(sessions.use(a1->bytes()).code(), Code::not_found);
  EXPECT_EQ(sessions.use(a2->bytes()).code(), Code::not_found);
  EXPECT_TRUE(sessions.use(b->bytes()).ok());
}

}  // namespace
}  // namespace touchpass::daemon
