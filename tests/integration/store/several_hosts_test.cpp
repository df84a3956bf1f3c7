// Several hosts on one PostgreSQL store (DESIGN.md §7): each "host" here is a store opened on its
// own connections to the same database, as each touchpassd opens it. What one host issues, the
// other verifies; a revoke holds everywhere at once; failures are counted once for all hosts;
// the audit chain stays one verifiable chain however many hosts write.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "daemon/throttle.h"
#include "store/integrity.h"
#include "store/sql_connection.h"
#include "support/store_database.h"

namespace touchpass::store {
namespace {

constexpr UnixTime kNow = 1764000000;

class SeveralHostsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string skip, error;
    db_ = StoreDatabase::create(Backend::postgresql, &skip, &error);
    if (!skip.empty()) GTEST_SKIP() << skip;
    ASSERT_NE(db_, nullptr) << error;
    a_ = host();
    b_ = host();
    ASSERT_TRUE(a_ && b_);
  }

  // A host's store: opened on the shared database with the shared pepper's keys.
  std::unique_ptr<SqlStore> host() {
    auto opened = db_->open();
    EXPECT_TRUE(opened.ok()) << opened.error().message;
    if (!opened.ok()) return nullptr;
    const Status keyed = (*opened)->use_keys(keys(), kNow, true);
    EXPECT_TRUE(keyed.ok()) << keyed.message();
    return keyed.ok() ? std::move(*opened) : nullptr;
  }

  static std::shared_ptr<const StoreKeys> keys() {
    static const auto derived = StoreKeys::derive(Bytes(32, 0x5a));
    return *derived;
  }

  static AuditEvent event(const std::string& action, const std::string& user) {
    AuditEvent e;
    e.time = kNow;
    e.actor = user;
    e.action = action;
    e.user = user;
    e.result = "ok";
    return e;
  }

  static TokenRecord token(const std::string& user, const std::string& label) {
    TokenRecord t;
    t.user = user;
    t.label = label;
    t.kind = TokenKind::fido2;
    t.credential = Bytes(32, 0xaa);
    t.rp_id = "mail.example.org";
    t.algorithm = -7;
    t.public_key = Bytes(64, 0x04);
    t.uv = "pin";
    t.aaguid = Bytes(16, 0x11);
    t.attestation_format = "packed";
    t.device = "virtual";
    t.created = kNow;
    return t;
  }

  static GrantRecord grant(std::int64_t token_id, const std::string& user, const std::string& name,
                           std::uint8_t seed) {
    GrantRecord g;
    g.grant_id = Bytes(16, seed);
    g.user = user;
    g.name = name;
    g.scopes = {"imap"};
    g.created = kNow;
    g.token_id = token_id;
    g.kind = TokenKind::fido2;
    g.credential = Bytes(32, 0xaa);
    g.verifier = Bytes(32, static_cast<std::uint8_t>(seed + 1));
    g.proof_auth_data = Bytes(37, 0x01);
    g.proof_signature = Bytes(70, 0x02);
    return g;
  }

  std::unique_ptr<StoreDatabase> db_;
  std::unique_ptr<SqlStore> a_;
  std::unique_ptr<SqlStore> b_;
};

TEST_F(SeveralHostsTest, AGrantIssuedOnOneHostIsFoundOnTheOtherAndARevokeHoldsAtOnce) {
  auto key = a_->add_token(token("alice", "key"), event("enroll", "alice"));
  ASSERT_TRUE(key.ok()) << key.error().message;
  const GrantRecord g = grant(*key, "alice", "mail", 0x10);
  ASSERT_TRUE(a_->add_grant(g, 2, event("issue", "alice")).ok());
  // B verifies it: found, intact, active — twice, as a busy mail server would.
  for (int i = 0; i < 2; ++i) {
    auto found = b_->find_grant_by_verifier(g.verifier);
    ASSERT_TRUE(found.ok() && found->has_value());
    EXPECT_TRUE((*found)->intact);
    EXPECT_FALSE((*found)->revoked.has_value());
  }
  // Revoked on B: A's very next look-up sees it (nothing is remembered between look-ups).
  auto before = a_->find_grant_by_verifier(g.verifier);
  ASSERT_TRUE(before.ok() && before->has_value() && !(*before)->revoked);
  ASSERT_TRUE(b_->revoke_grant("alice", "mail", kNow + 5, event("revoke", "alice")).ok());
  auto after = a_->find_grant_by_verifier(g.verifier);
  ASSERT_TRUE(after.ok() && after->has_value());
  EXPECT_EQ((*after)->revoked, kNow + 5);
  // A revoked key too.
  const GrantRecord other = grant(*key, "alice", "phone", 0x20);
  ASSERT_TRUE(a_->add_grant(other, 3, event("issue", "alice")).ok());
  ASSERT_TRUE(b_->find_grant_by_verifier(other.verifier)->has_value());
  ASSERT_TRUE(b_->revoke_token(*key, kNow + 6, event("revoke", "alice")).ok());
  auto revoked_key = a_->find_grant_by_verifier(other.verifier);
  ASSERT_TRUE(revoked_key.ok() && revoked_key->has_value());
  EXPECT_TRUE((*revoked_key)->token_revoked);
}

TEST_F(SeveralHostsTest, FailuresOnTwoHostsAreCountedOnceAndLockTheSourceOnBoth) {
  daemon::ThrottlePolicy policy;
  policy.source_failures = 4;
  policy.base_delay = std::chrono::milliseconds(0);
  daemon::Throttle on_a(policy, {}, kNow, a_.get());
  daemon::Throttle on_b(policy, {}, kNow, b_.get());
  daemon::Throttle* hosts[] = {&on_a, &on_b};
  for (int i = 0; i < 4; ++i) {
    daemon::Throttle& host = *hosts[i % 2];
    auto attempt = host.admit("192.0.2.7", "alice", kNow + i);
    ASSERT_TRUE(attempt.admitted()) << "failure " << i + 1 << " is still below the limit";
    const auto verdict = host.settle(attempt, false, kNow + i);
    EXPECT_EQ(verdict.locked_now, i == 3);
  }
  // Each host saw two failures, but the source made four: it is locked on both.
  for (daemon::Throttle* host : hosts) {
    auto attempt = host->admit("192.0.2.7", "alice", kNow + 10);
    EXPECT_FALSE(attempt.admitted());
    EXPECT_FALSE(attempt.unavailable());
  }
  // Another source is not.
  EXPECT_TRUE(on_b.admit("192.0.2.8", "alice", kNow + 10).admitted());
  // Both hosts list the lock; the user's failures are every host's.
  EXPECT_EQ(on_b.locked("", kNow + 10).size(), 1u);
  EXPECT_EQ(on_a.user_failures("alice", kNow + 10), 4);
  // Unlocked on A, the source is let in on B.
  auto unlocked = on_a.unlock("192.0.2.7", "");
  ASSERT_TRUE(unlocked.ok());
  EXPECT_EQ(*unlocked, 1);
  EXPECT_TRUE(on_b.admit("192.0.2.7", "alice", kNow + 11).admitted());
}

TEST_F(SeveralHostsTest, AHostWithALowerLimitRefusesASourceAnotherHostHasNotLockedYet) {
  daemon::ThrottlePolicy lenient;
  lenient.source_failures = 6;
  lenient.base_delay = std::chrono::milliseconds(0);
  daemon::ThrottlePolicy strict = lenient;
  strict.source_failures = 3;
  daemon::Throttle on_a(lenient, {}, kNow, a_.get());
  daemon::Throttle on_b(strict, {}, kNow, b_.get());
  for (int i = 0; i < 4; ++i) {
    auto attempt = on_a.admit("192.0.2.7", "alice", kNow + i);
    ASSERT_TRUE(attempt.admitted());
    EXPECT_FALSE(on_a.settle(attempt, false, kNow + i).locked_now);
  }
  // Four failures: past B's limit, below A's. B refuses at once; it used to wait for room that
  // never came, and then answered that the store could not be read.
  auto on_strict = on_b.admit("192.0.2.7", "alice", kNow + 5);
  EXPECT_FALSE(on_strict.admitted());
  EXPECT_FALSE(on_strict.unavailable());
  EXPECT_TRUE(on_a.admit("192.0.2.7", "alice", kNow + 5).admitted());
}

TEST_F(SeveralHostsTest, ConcurrentGuessesOnBothHostsNeverPassTheLimit) {
  daemon::ThrottlePolicy policy;
  policy.source_failures = 10;
  policy.base_delay = std::chrono::milliseconds(0);
  daemon::Throttle on_a(policy, {}, kNow, a_.get());
  daemon::Throttle on_b(policy, {}, kNow, b_.get());
  std::atomic<int> evaluated{0};
  std::vector<std::thread> guessers;
  for (daemon::Throttle* host : {&on_a, &on_b}) {
    for (int t = 0; t < 3; ++t) {
      guessers.emplace_back([host, &evaluated] {
        for (int i = 0; i < 20; ++i) {
          auto attempt = host->admit("192.0.2.7", "alice", kNow);
          if (!attempt.admitted()) continue;
          ++evaluated;
          host->settle(attempt, false, kNow);
        }
      });
    }
  }
  for (auto& g : guessers) g.join();
  // Reserved in the store, check and count are one step for all hosts: exactly the limit.
  EXPECT_EQ(evaluated.load(), 10);
  auto state = a_->throttle_state("192.0.2.7");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->failures, evaluated.load());
  EXPECT_NE(state->locked_until, 0);
}

TEST_F(SeveralHostsTest, TheAuditChainStaysOneVerifiableChainWithSeveralWriters) {
  constexpr int kEach = 15;
  std::atomic<int> failed{0};
  std::vector<std::thread> writers;
  for (SqlStore* host : {a_.get(), b_.get()}) {
    for (int t = 0; t < 2; ++t) {
      writers.emplace_back([host, t, &failed] {
        for (int i = 0; i < kEach; ++i) {
          const std::string user = "user" + std::to_string(t);
          const std::string label = "key " +
                                    std::to_string(reinterpret_cast<std::uintptr_t>(host) % 1000) +
                                    "-" + std::to_string(i);
          if (!host->add_token(token(user, label), event("enroll", user)).ok()) ++failed;
          if (!host->append_audit(event("note", user)).ok()) ++failed;
        }
      });
    }
  }
  for (auto& w : writers) w.join();
  EXPECT_EQ(failed.load(), 0);
  auto entries = a_->list_audit("", 0);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(entries->size(), static_cast<std::size_t>(2 * 2 * kEach * 2));
  for (SqlStore* host : {a_.get(), b_.get()}) {
    auto head = host->audit_head();
    ASSERT_TRUE(head.ok());
    EXPECT_EQ(head->seq, static_cast<std::int64_t>(entries->size()));
    const Status verified = host->verify_audit(*head);
    EXPECT_TRUE(verified.ok()) << verified.message();
  }
}

TEST_F(SeveralHostsTest, HostsKeyingANewStoreTogetherAgreeOnItsKeying) {
  // Both hosts here were keyed in SetUp, one after the other; a third starting now agrees.
  auto c = host();
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(a_->add_token(token("alice", "key"), event("enroll", "alice")).ok());
  auto head_a = a_->audit_head();
  auto head_c = c->audit_head();
  ASSERT_TRUE(head_a.ok() && head_c.ok());
  EXPECT_EQ(head_a->keyed_from, head_c->keyed_from);
  EXPECT_TRUE(c->verify_audit(*head_a).ok());
}

TEST_F(SeveralHostsTest, AConnectionCutInTheMiddleOfAnIssueLeavesNothingOfIt) {
  auto key = a_->add_token(token("alice", "key"), event("enroll", "alice"));
  ASSERT_TRUE(key.ok());
  const auto entries_before = a_->list_audit("", 0)->size();
  // Another session holds the audit log, so the issue stops after writing the key's counter
  // and the grant, waiting to append its audit entry; there its connection is cut.
  auto blocker = db_->raw();
  ASSERT_TRUE(blocker.ok());
  ASSERT_TRUE(sql::Query(**blocker, "BEGIN").run("begin").ok());
  ASSERT_TRUE(sql::Query(**blocker, "LOCK TABLE audit IN ACCESS EXCLUSIVE MODE").run("lock").ok());
  const GrantRecord g = grant(*key, "alice", "mail", 0x30);
  Status issued;
  std::thread issuing([&] { issued = a_->add_grant(g, 9, event("issue", "alice")); });
  auto watcher = db_->raw();
  ASSERT_TRUE(watcher.ok());
  std::int64_t pid = 0;
  while (pid == 0) {
    sql::Query waiting(**watcher,
                       "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                       "AND pid <> pg_backend_pid() AND query LIKE '%FROM audit%'");
    if (waiting.step() == sql::Step::row) pid = waiting.integer(0);
    if (pid == 0) std::this_thread::yield();
  }
  sql::Query cut(**watcher, "SELECT pg_terminate_backend(CAST(? AS INTEGER))");
  cut.bind(1, pid);
  EXPECT_EQ(cut.step(), sql::Step::row) << cut.error("cut").message;
  if (!cut.integer(0)) (void)sql::Query(**blocker, "ROLLBACK").run("roll back");  // not stuck
  issuing.join();
  ASSERT_TRUE(sql::Query(**blocker, "ROLLBACK").run("roll back").ok());

  EXPECT_FALSE(issued.ok());
  EXPECT_EQ(issued.code(), Code::io_error) << issued.message();
  // Nothing of it: no grant, the key's counter as it was, no audit entry; the store verifies.
  EXPECT_EQ(b_->find_grant("alice", "mail").code(), Code::not_found);
  EXPECT_FALSE(b_->find_grant_by_verifier(g.verifier)->has_value());
  EXPECT_EQ(b_->get_token(*key)->sign_count, 0u);
  EXPECT_EQ(b_->list_audit("", 0)->size(), entries_before);
  EXPECT_TRUE(b_->verify_audit(std::nullopt).ok());
  // The host reconnects for its next write.
  ASSERT_TRUE(a_->add_grant(g, 9, event("issue", "alice")).ok());
  EXPECT_TRUE(b_->find_grant_by_verifier(g.verifier)->has_value());
}

}  // namespace
}  // namespace touchpass::store
