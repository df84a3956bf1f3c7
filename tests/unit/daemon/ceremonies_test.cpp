// CeremonyTable: begun ceremonies, single-use, expiring, bound to the process that began them,
// bounded per owner and in total — or, for sign-ins, replacing the oldest; a fake steady clock.
#include "daemon/ceremonies.h"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

namespace touchpass::daemon {
namespace {

using namespace std::chrono_literals;

class CeremonyTableTest : public ::testing::Test {
 protected:
  CeremonyTable make(CeremonyTable::Limits limits) {
    return CeremonyTable(limits, [this] { return now_; });
  }
  static PendingCeremony of(uid_t uid, pid_t pid, const std::string& web_user = "") {
    PendingCeremony c;
    c.uid = uid;
    c.pid = pid;
    c.web_user = web_user;
    c.name = "mail";
    return c;
  }
  std::chrono::steady_clock::time_point now_{};
};

TEST_F(CeremonyTableTest, ACeremonyIsTakenOnceAndOnlyByTheProcessThatBeganIt) {
  auto table = make({});
  auto id = table.add(of(1000, 77));
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(table.take(*id, 1000, 78).code(), Code::permission_denied);
  EXPECT_EQ(table.take(*id, 1001, 77).code(), Code::permission_denied);
  auto taken = table.take(*id, 1000, 77);
  ASSERT_TRUE(taken.ok()) << taken.error().message;
  EXPECT_EQ(taken->name, "mail");
  const auto again = table.take(*id, 1000, 77);
  EXPECT_EQ(again.code(), Code::not_found);
  EXPECT_NE(again.error().message.find("start again"), std::string::npos);
}

TEST_F(CeremonyTableTest, ACeremonyExpiresAfterItsLifetime) {
  auto table = make({.lifetime = 180s});
  auto id = table.add(of(1000, 77));
  ASSERT_TRUE(id.ok());
  now_ += 180s;
  EXPECT_EQ(table.take(*id, 1000, 77).code(), Code::not_found);
}

TEST_F(CeremonyTableTest, EachOwnerAndTheWholeTableAreBounded) {
  auto table = make({.lifetime = 180s, .per_uid = 2, .total = 5});
  ASSERT_TRUE(table.add(of(1000, 1)).ok());
  ASSERT_TRUE(table.add(of(1000, 2)).ok());
  EXPECT_EQ(table.add(of(1000, 3)).code(), Code::busy);  // uid 1000 has 2 open
  // A web user is an owner of their own, even through the same gateway uid.
  ASSERT_TRUE(table.add(of(990, 9, "alice")).ok());
  ASSERT_TRUE(table.add(of(990, 9, "alice")).ok());
  EXPECT_EQ(table.add(of(990, 9, "alice")).code(), Code::busy);
  ASSERT_TRUE(table.add(of(990, 9, "bob")).ok());
  EXPECT_EQ(table.add(of(1001, 1)).code(), Code::busy);  // 5 open in all
  now_ += 180s;                                          // all expire
  EXPECT_TRUE(table.add(of(1000, 3)).ok());
}

TEST_F(CeremonyTableTest, ATableOfSignInsReplacesItsOldestInsteadOfRefusing) {
  auto table = make({.lifetime = 180s, .per_uid = 0, .total = 3, .replace_oldest_when_full = true});
  std::vector<Bytes> ids;
  for (int i = 0; i < 3; ++i) {
    auto id = table.add(of(990, 9, "alice"));  // no limit per owner
    ASSERT_TRUE(id.ok()) << id.error().message;
    ids.push_back(*id);
    now_ += 1s;
  }
  auto newest = table.add(of(990, 9, "alice"));
  ASSERT_TRUE(newest.ok()) << newest.error().message;
  EXPECT_EQ(table.take(ids[0], 990, 9).code(), Code::not_found);  // the oldest gave way
  EXPECT_TRUE(table.take(ids[1], 990, 9).ok());
  EXPECT_TRUE(table.take(ids[2], 990, 9).ok());
  EXPECT_TRUE(table.take(*newest, 990, 9).ok());
}

}  // namespace
}  // namespace touchpass::daemon
