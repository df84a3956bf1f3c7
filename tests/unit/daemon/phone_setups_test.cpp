// PhoneSetups: passwords waiting for a phone, taken once by token, short-lived and bounded; a
// fake clock.
#include "daemon/phone_setups.h"

#include <gtest/gtest.h>

#include <atomic>

namespace touchpass::daemon {
namespace {

constexpr store::UnixTime kStart = 1764000000;

PhoneSetup setup_of(const std::string& user, const std::string& name,
                    const std::string& password = "abcd-efgh-jkmn-pqrs-tvwx") {
  PhoneSetup s;
  s.user = user;
  s.name = name;
  s.scopes = {"imap", "smtp"};
  s.password = SecretBytes::copy_of(password);
  return s;
}

class PhoneSetupsTest : public ::testing::Test {
 protected:
  PhoneSetups make(PhoneSetups::Limits limits = {}) {
    return PhoneSetups(limits, [this] { return now_.load(); });
  }
  std::atomic<store::UnixTime> now_{kStart};
};

TEST_F(PhoneSetupsTest, ATokenGivesItsPasswordExactlyOnce) {
  auto setups = make();
  auto token = setups.add(setup_of("alice", "phone"));
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->size(), kPhoneSetupTokenBytes);
  auto taken = setups.take(token->bytes());
  ASSERT_TRUE(taken.ok()) << taken.error().message;
  EXPECT_EQ(taken->user, "alice");
  EXPECT_EQ(taken->name, "phone");
  EXPECT_EQ(taken->scopes, (std::vector<std::string>{"imap", "smtp"}));
  EXPECT_EQ(taken->password.view(), "abcd-efgh-jkmn-pqrs-tvwx");
  EXPECT_EQ(taken->expires, kStart + 600);
  const auto again = setups.take(token->bytes());
  EXPECT_EQ(again.code(), Code::not_found);
  EXPECT_NE(again.error().message.find("used or has expired"), std::string::npos);
  EXPECT_EQ(setups.size(), 0u);
}

TEST_F(PhoneSetupsTest, UnknownMalformedAndExpiredTokensGiveNothing) {
  auto setups = make();
  auto token = setups.add(setup_of("alice", "phone"));
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(setups.take(Bytes(kPhoneSetupTokenBytes, 0)).code(), Code::not_found);
  EXPECT_EQ(setups.take(Bytes{}).code(), Code::not_found);
  EXPECT_EQ(setups.take(Bytes(kPhoneSetupTokenBytes + 1, 1)).code(), Code::not_found);
  now_ = kStart + 600;
  EXPECT_EQ(setups.take(token->bytes()).code(), Code::not_found);
  EXPECT_EQ(setups.size(), 0u);
}

TEST_F(PhoneSetupsTest, AUserKeepsTheNewestSetupsAndTheTableIsBounded) {
  auto setups = make({std::chrono::seconds(600), 2, 3});
  auto first = setups.add(setup_of("alice", "a"));
  now_ = kStart + 1;
  auto second = setups.add(setup_of("alice", "b"));
  now_ = kStart + 2;
  auto third = setups.add(setup_of("alice", "c"));
  ASSERT_TRUE(first.ok() && second.ok() && third.ok());
  EXPECT_EQ(setups.take(first->bytes()).code(), Code::not_found) << "the oldest made room";
  ASSERT_TRUE(setups.add(setup_of("bob", "x")).ok());
  const auto full = setups.add(setup_of("carol", "y"));
  EXPECT_EQ(full.code(), Code::busy);
  EXPECT_TRUE(setups.take(second->bytes()).ok());
  EXPECT_TRUE(setups.take(third->bytes()).ok());
}

TEST_F(PhoneSetupsTest, ForgettingAPasswordOrAUserEndsTheirSetups) {
  auto setups = make();
  auto phone = setups.add(setup_of("alice", "phone"));
  auto tablet = setups.add(setup_of("alice", "tablet"));
  auto bobs = setups.add(setup_of("bob", "phone"));
  ASSERT_TRUE(phone.ok() && tablet.ok() && bobs.ok());
  EXPECT_EQ(setups.forget("alice", "phone"), 1u);
  EXPECT_EQ(setups.take(phone->bytes()).code(), Code::not_found);
  EXPECT_EQ(setups.forget("alice"), 1u);
  EXPECT_EQ(setups.take(tablet->bytes()).code(), Code::not_found);
  EXPECT_TRUE(setups.take(bobs->bytes()).ok());
}

}  // namespace
}  // namespace touchpass::daemon
