// AuditBudget: itemized audit entries for an actor's failures, per window, bounded.
#include "daemon/audit_budget.h"

#include <gtest/gtest.h>

namespace touchpass::daemon {
namespace {

constexpr store::UnixTime kNow = 1764000000;

TEST(AuditBudgetTest, AnActorGetsItsBudgetPerWindowAndOthersTheirOwn) {
  AuditBudget budget({.per_window = 3, .window = std::chrono::seconds(60), .actors = 16});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(budget.take(1000, "alice", kNow + i));
  EXPECT_FALSE(budget.take(1000, "alice", kNow + 10));
  // Another uid, and a web user behind the gateway's uid, are actors of their own.
  EXPECT_TRUE(budget.take(1001, "bob", kNow + 10));
  EXPECT_TRUE(budget.take(990, "carol", kNow + 10));
  EXPECT_TRUE(budget.take(990, "dave", kNow + 10));
  // The next window starts afresh.
  EXPECT_TRUE(budget.take(1000, "alice", kNow + 60));
}

TEST(AuditBudgetTest, AFullTableForgetsEndedWindowsAndOtherwiseItemizesNothingNew) {
  AuditBudget budget({.per_window = 1, .window = std::chrono::seconds(60), .actors = 2});
  EXPECT_TRUE(budget.take(1, "a", kNow));
  EXPECT_TRUE(budget.take(2, "b", kNow + 30));
  EXPECT_FALSE(budget.take(3, "c", kNow + 40));  // both windows still open
  EXPECT_TRUE(budget.take(3, "c", kNow + 60));   // a's window has ended: forgotten
}

}  // namespace
}  // namespace touchpass::daemon
