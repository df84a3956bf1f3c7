// Brute-force protection: per-source locks, checked and counted in one step; per-user slowing
// that never refuses; bounded memory; locks handed to the store for a restart.
#include "daemon/throttle.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace touchpass::daemon {
namespace {

using namespace std::chrono_literals;

constexpr store::UnixTime kNow = 1764000000;

ThrottlePolicy policy(int source_failures = 3, int user_failures = 5) {
  ThrottlePolicy p;
  p.base_delay = 100ms;
  p.max_delay = 1000ms;
  p.source_failures = source_failures;
  p.lockout = 600s;
  p.user_failures = user_failures;
  return p;
}

// One failed attempt from `source` for `user`; returns its verdict (or nullopt: not admitted).
std::optional<Throttle::Verdict> fail(Throttle& t, const std::string& source,
                                      const std::string& user, store::UnixTime now = kNow) {
  auto attempt = t.admit(source, user, now);
  if (!attempt.admitted()) return std::nullopt;
  return t.settle(attempt, false, now);
}

TEST(ThrottleTest, ASourceIsLockedAtTheLimitAndItsDelaysGrow) {
  Throttle t(policy(), {}, kNow);
  auto v1 = fail(t, "192.0.2.7", "alice");
  auto v2 = fail(t, "192.0.2.7", "alice");
  auto v3 = fail(t, "192.0.2.7", "alice");
  ASSERT_TRUE(v1 && v2 && v3);
  EXPECT_EQ(v1->delay, 100ms);
  EXPECT_EQ(v2->delay, 200ms);
  EXPECT_EQ(v3->delay, 400ms);
  EXPECT_FALSE(v2->locked_now);
  EXPECT_TRUE(v3->locked_now);
  EXPECT_EQ(v3->locked_until, kNow + 600);
  // Locked: not even evaluated.
  EXPECT_FALSE(t.admit("192.0.2.7", "alice", kNow + 1).admitted());
  // The lock ends after its time, and the count starts again.
  EXPECT_TRUE(t.admit("192.0.2.7", "alice", kNow + 601).admitted());
}

TEST(ThrottleTest, AnotherSourceIsNotAffectedAndTheUserIsNeverLocked) {
  Throttle t(policy(3, 2), {}, kNow);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(fail(t, "192.0.2.7", "alice"));
  EXPECT_FALSE(t.admit("192.0.2.7", "alice", kNow).admitted());
  // The user has failed past user_failures: refusals for alice are slowed …
  auto other = fail(t, "198.51.100.1", "alice");
  ASSERT_TRUE(other);
  EXPECT_GE(other->delay, 200ms);
  // … but a right password from a source that is not locked is admitted and accepted.
  auto attempt = t.admit("203.0.113.5", "alice", kNow);
  ASSERT_TRUE(attempt.admitted());
  EXPECT_EQ(t.settle(attempt, true, kNow).delay, 0ms);
  EXPECT_EQ(t.user_failures("alice", kNow), 4);
}

TEST(ThrottleTest, ConcurrentGuessesNeverExceedTheLimit) {
  Throttle t(policy(10), {}, kNow);
  std::atomic<int> evaluated{0};
  std::vector<std::thread> threads;
  std::atomic<bool> go{false};
  for (int i = 0; i < 200; ++i) {
    threads.emplace_back([&] {
      while (!go) std::this_thread::yield();
      auto attempt = t.admit("192.0.2.7", "alice", kNow);
      if (!attempt.admitted()) return;
      ++evaluated;
      std::this_thread::sleep_for(1ms);  // the evaluation, while others try
      t.settle(attempt, false, kNow);
    });
  }
  go = true;
  for (auto& th : threads) th.join();
  EXPECT_EQ(evaluated.load(), 10);
}

TEST(ThrottleTest, AnAttemptWaitingForAForgottenSourceIsAdmitted) {
  ThrottlePolicy p = policy(2);
  p.max_entries = 1;
  Throttle t(p, {}, kNow);
  auto a1 = t.admit("192.0.2.7", "alice", kNow);
  auto a2 = t.admit("192.0.2.7", "alice", kNow);
  ASSERT_TRUE(a1.admitted() && a2.admitted());
  // A third attempt from the source waits: its two reservations are taken.
  std::atomic<bool> admitted{false};
  std::thread waiter([&] {
    auto a3 = t.admit("192.0.2.7", "alice", kNow);
    admitted = a3.admitted();
  });
  while (t.waiting_admissions() == 0) std::this_thread::yield();
  // Another source needs the only entry: the busy one is forgotten, reservations and all.
  auto other = t.admit("198.51.100.1", "bob", kNow);
  ASSERT_TRUE(other.admitted());
  t.settle(a1, true, kNow);
  t.settle(a2, true, kNow);
  waiter.join();  // hangs if the waiter is never woken
  EXPECT_TRUE(admitted);
}

TEST(ThrottleTest, AnAttemptWaitingForReservationsThatStayTakenGetsNoVerdict) {
  // Two attempts from the source are being evaluated and do not settle (an account password
  // that PAM takes long to check, say): a third waits, but not for ever.
  ThrottlePolicy p = policy(2);
  p.wait_limit = std::chrono::milliseconds(50);
  Throttle t(p, {}, kNow);
  auto a1 = t.admit("192.0.2.7", "alice", kNow);
  auto a2 = t.admit("192.0.2.7", "alice", kNow);
  ASSERT_TRUE(a1.admitted() && a2.admitted());
  auto a3 = t.admit("192.0.2.7", "alice", kNow);
  EXPECT_FALSE(a3.admitted());
  EXPECT_TRUE(a3.unavailable());
  // Nothing was counted: once they settle, the source is admitted again.
  t.settle(a1, true, kNow);
  EXPECT_TRUE(t.admit("192.0.2.7", "alice", kNow).admitted());
}

TEST(ThrottleTest, ManyConcurrentRightPasswordsFromOneSourceAreAllAdmitted) {
  Throttle t(policy(10), {}, kNow);
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 100; ++i) {
    threads.emplace_back([&] {
      for (int n = 0; n < 50; ++n) {
        auto attempt = t.admit("127.0.0.1", "alice", kNow);
        if (!attempt.admitted()) continue;
        ++admitted;
        t.settle(attempt, true, kNow);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(admitted.load(), 5000);
}

TEST(ThrottleTest, AnAcceptanceDoesNotEraseFailures) {
  Throttle t(policy(3), {}, kNow);
  ASSERT_TRUE(fail(t, "192.0.2.7", "mallory"));
  ASSERT_TRUE(fail(t, "192.0.2.7", "alice"));
  auto own = t.admit("192.0.2.7", "mallory", kNow);
  ASSERT_TRUE(own.admitted());
  t.settle(own, true, kNow);
  auto third = fail(t, "192.0.2.7", "alice");
  ASSERT_TRUE(third);
  EXPECT_TRUE(third->locked_now);
}

TEST(ThrottleTest, AnUnsettledAttemptReleasesItsReservation) {
  Throttle t(policy(1), {}, kNow);
  { auto attempt = t.admit("192.0.2.7", "alice", kNow); }  // the store failed: no verdict
  EXPECT_TRUE(t.admit("192.0.2.7", "alice", kNow).admitted());
}

TEST(ThrottleTest, FailuresAreForgottenAfterTheWindow) {
  Throttle t(policy(3), {}, kNow);
  ASSERT_TRUE(fail(t, "192.0.2.7", "alice"));
  ASSERT_TRUE(fail(t, "192.0.2.7", "alice"));
  auto later = fail(t, "192.0.2.7", "alice", kNow + 601);
  ASSERT_TRUE(later);
  EXPECT_FALSE(later->locked_now);
  EXPECT_EQ(later->delay, 100ms);
}

TEST(ThrottleTest, LocksAreHandedToTheStoreAndComeBackAfterARestart) {
  Throttle t(policy(2), {}, kNow);
  fail(t, "192.0.2.7", "alice");
  fail(t, "192.0.2.7", "alice");
  fail(t, "198.51.100.1", "bob");  // not locked: nothing to keep
  auto changes = t.take_changes();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].key, "192.0.2.7");
  EXPECT_EQ(changes[0].locked_until, kNow + 600);
  EXPECT_TRUE(t.take_changes().empty());

  Throttle restarted(policy(2), changes, kNow + 10);
  EXPECT_FALSE(restarted.admit("192.0.2.7", "alice", kNow + 10).admitted());
  Throttle much_later(policy(2), changes, kNow + 700);
  EXPECT_TRUE(much_later.admit("192.0.2.7", "alice", kNow + 700).admitted());
}

TEST(ThrottleTest, UnlockLiftsLocksBySourceByUserOrAll) {
  Throttle t(policy(1), {}, kNow);
  fail(t, "192.0.2.7", "alice");
  fail(t, "192.0.2.8", "bob");
  fail(t, "192.0.2.9", "bob");
  ASSERT_EQ(t.locked("", kNow).size(), 3u);
  ASSERT_EQ(t.locked("bob", kNow).size(), 2u);
  t.take_changes();
  EXPECT_EQ(*t.unlock("192.0.2.7", ""), 1);
  EXPECT_TRUE(t.admit("192.0.2.7", "alice", kNow).admitted());
  EXPECT_EQ(*t.unlock("", "bob"), 2);
  EXPECT_TRUE(t.locked("", kNow).empty());
  auto changes = t.take_changes();
  ASSERT_EQ(changes.size(), 3u);
  for (const auto& c : changes) EXPECT_EQ(c.locked_until, 0);  // remove from the store
  fail(t, "192.0.2.7", "alice");
  EXPECT_EQ(*t.unlock("", ""), 1);
}

TEST(ThrottleTest, MemoryIsBoundedAndLocksAreKeptLongest) {
  ThrottlePolicy p = policy(1);
  p.max_entries = 100;
  Throttle t(p, {}, kNow);
  fail(t, "192.0.2.7", "alice");  // locked
  for (int i = 0; i < 5000; ++i) fail(t, "source-" + std::to_string(i), "alice");
  // Every flood source locked itself, so some locks were forgotten — but never more entries
  // than the bound, and the newest are kept.
  EXPECT_LE(t.locked("", kNow).size(), 100u);
  EXPECT_FALSE(t.admit("source-4999", "alice", kNow).admitted());

  ThrottlePolicy q = policy(5);
  q.max_entries = 100;
  Throttle u(q, {}, kNow);
  for (int i = 0; i < 5; ++i) fail(u, "192.0.2.7", "alice");                       // locked
  for (int i = 0; i < 5000; ++i) fail(u, "source-" + std::to_string(i), "alice");  // not locked
  EXPECT_FALSE(u.admit("192.0.2.7", "alice", kNow).admitted());  // the lock outlived them
}

}  // namespace
}  // namespace touchpass::daemon
