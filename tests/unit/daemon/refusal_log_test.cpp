// Refusals become a bounded number of aggregated audit entries.
#include "daemon/refusal_log.h"

#include <gtest/gtest.h>

namespace touchpass::daemon {
namespace {

constexpr store::UnixTime kNow = 1764000000;
const RefusalLog::Actor kDovecot{0, "root"};

TEST(RefusalLogTest, RefusalsOfOneUserFromOneSourceBecomeOneEntry) {
  RefusalLog log;
  log.refused(kDovecot, "verify", "alice", "imap", "192.0.2.7", "unknown password", kNow);
  log.refused(kDovecot, "verify", "alice", "imap", "192.0.2.7", "unknown password", kNow + 1);
  log.refused(kDovecot, "verify", "alice", "imap", "192.0.2.7", "revoked app password \"x\"",
              kNow + 2);
  log.refused(kDovecot, "verify", "bob", "imap", "192.0.2.7", "unknown password", kNow);
  auto entries = log.take();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].user, "alice");
  EXPECT_EQ(entries[0].action, "verify");
  EXPECT_EQ(entries[0].result, "refused");
  EXPECT_EQ(entries[0].object, "imap");
  EXPECT_EQ(entries[0].time, kNow + 2);
  EXPECT_EQ(entries[0].detail,
            "3 refusals from 192.0.2.7 (16:00:00–16:00:02 UTC): revoked app password \"x\", "
            "unknown password ×2");
  EXPECT_TRUE(log.take().empty());
}

TEST(RefusalLogTest, AnIntervalHoldsABoundedNumberOfEntries) {
  RefusalLog log(8);
  for (int i = 0; i < 10000; ++i) {
    log.refused(kDovecot, "verify", "alice", "imap", "source-" + std::to_string(i),
                "unknown password", kNow);
  }
  log.locked(kDovecot, "alice", "source-1", kNow + 900, kNow);
  auto entries = log.take();
  ASSERT_EQ(entries.size(), 9u);  // 8 itemized, one sum
  EXPECT_EQ(entries.back().detail.rfind("9993 more refusals and lockouts", 0), 0u)
      << entries.back().detail;
}

TEST(RefusalLogTest, LockoutsAreEntriesOfTheirOwn) {
  RefusalLog log;
  log.locked(kDovecot, "alice", "2001:db8::/64", kNow + 900, kNow);
  auto entries = log.take();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].action, "lockout");
  EXPECT_EQ(entries[0].object, "2001:db8::/64");
  EXPECT_NE(entries[0].detail.find("900 s"), std::string::npos);
}

}  // namespace
}  // namespace touchpass::daemon
