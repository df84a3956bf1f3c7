// The store's contract (sql_store.h, admin_store.h, verification_store.h), run unchanged on
// SQLite and on PostgreSQL: what is stored comes back, what is refused leaves no trace, the audit
// log chains and verifies, verification's batches and look-ups.
#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "store/integrity.h"
#include "store_fixture.h"

namespace touchpass::store {
namespace {

TEST_P(StoreContractTest, TokensPersistAcrossReopen) {
  const std::int64_t id = enroll("alice", "blue key");
  store_.reset();
  auto reopened = reopen();
  ASSERT_TRUE(reopened.ok());
  auto t = (*reopened)->get_token(id);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->user, "alice");
  EXPECT_EQ(t->label, "blue key");
  EXPECT_EQ(t->public_key, Bytes(64, 0x04));
  EXPECT_TRUE(t->is_virtual);
  EXPECT_FALSE(t->revoked.has_value());
}

TEST_P(StoreContractTest, TokenLabelsAreUniquePerUserAndAFailedEnrollStoresNothing) {
  enroll("alice", "key");
  const std::size_t before = audit_count();
  auto dup = store_->add_token(token("alice", "key"), event("enroll", "alice", "key"));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.code(), Code::invalid_argument);
  EXPECT_EQ(audit_count(), before);  // the audit entry was rolled back with the insert
  EXPECT_TRUE(store_->add_token(token("bob", "key"), event("enroll", "bob", "key")).ok());
  auto alice = store_->list_tokens("alice", false);
  ASSERT_TRUE(alice.ok());
  EXPECT_EQ(alice->size(), 1u);
  auto all = store_->list_tokens("", false);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
}

TEST_P(StoreContractTest, GrantNamesAreUniquePerUserAmongActiveGrants) {
  const std::int64_t alice_key = enroll("alice", "key");
  const std::int64_t bob_key = enroll("bob", "key");
  ASSERT_TRUE(
      store_->add_grant(grant(alice_key, "alice", "mail"), 5, event("issue", "alice")).ok());
  const std::size_t before = audit_count();
  Status dup = store_->add_grant(grant(alice_key, "alice", "mail"), 6, event("issue", "alice"));
  EXPECT_EQ(dup.code(), Code::invalid_argument);
  EXPECT_EQ(audit_count(), before);
  EXPECT_EQ(store_->get_token(alice_key)->sign_count, 5u);  // counter update rolled back too
  EXPECT_TRUE(store_->add_grant(grant(bob_key, "bob", "mail"), 2, event("issue", "bob")).ok());
  ASSERT_TRUE(store_->revoke_grant("alice", "mail", 1764000100, event("revoke", "alice")).ok());
  EXPECT_TRUE(
      store_->add_grant(grant(alice_key, "alice", "mail"), 7, event("issue", "alice")).ok());
  auto with_revoked = store_->list_grants("alice", true);
  ASSERT_TRUE(with_revoked.ok());
  EXPECT_EQ(with_revoked->size(), 2u);
  auto active = store_->list_grants("alice", false);
  ASSERT_TRUE(active.ok());
  EXPECT_EQ(active->size(), 1u);
}

TEST_P(StoreContractTest, AGrantRoundTripsAndRecordsTheSignCount) {
  const std::int64_t key = enroll("alice", "key");
  GrantRecord g = grant(key, "alice", "thunderbird");
  g.expires = 1779552000;
  ASSERT_TRUE(store_->add_grant(g, 9, event("issue", "alice", "thunderbird")).ok());
  auto found = store_->find_grant("alice", "thunderbird");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->grant_id, g.grant_id);
  EXPECT_EQ(found->scopes, (std::vector<std::string>{"imap", "smtp"}));
  EXPECT_EQ(found->expires, 1779552000);
  EXPECT_EQ(found->verifier, g.verifier);
  EXPECT_EQ(found->proof_signature, g.proof_signature);
  EXPECT_EQ(store_->get_token(key)->sign_count, 9u);
  auto by_verifier = store_->find_grant_by_verifier(g.verifier);
  ASSERT_TRUE(by_verifier.ok());
  ASSERT_TRUE(by_verifier->has_value());
  EXPECT_EQ((*by_verifier)->name, "thunderbird");
  auto none = store_->find_grant_by_verifier(Bytes(32, 0));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(store_->find_grant("bob", "thunderbird").code(), Code::not_found);
}

TEST_P(StoreContractTest, AVersion2GrantRoundTripsWithItsRpIdAndClientData) {
  const std::int64_t key = enroll("alice", "key");
  const GrantRecord g = grant_v2(key, "alice", "mail");
  ASSERT_TRUE(store_->add_grant(g, 2, event("issue", "alice", "mail")).ok());
  const GrantRecord v1 = grant(key, "alice", "old");
  ASSERT_TRUE(store_->add_grant(v1, 3, event("issue", "alice", "old")).ok());
  const auto check = [&](const GrantRecord& found, bool with_proof) {
    EXPECT_EQ(found.version, 2u);
    EXPECT_EQ(found.rp_id, "mail.example.org");
    EXPECT_EQ(found.grant_id, g.grant_id);
    EXPECT_TRUE(found.intact);
    if (with_proof) {
      EXPECT_EQ(found.proof_client_data, g.proof_client_data);
      EXPECT_EQ(found.proof_auth_data, g.proof_auth_data);
    }
  };
  auto found = store_->find_grant("alice", "mail");
  ASSERT_TRUE(found.ok()) << found.error().message;
  check(*found, true);
  auto listed = store_->list_grants("alice", false);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  check(listed->front(), true);
  EXPECT_EQ(listed->back().version, 1u);
  EXPECT_TRUE(listed->back().rp_id.empty());
  EXPECT_TRUE(listed->back().proof_client_data.empty());
  // Verification's look-up (without proofs), fresh and then remembered, and after a restart.
  for (int round = 0; round < 3; ++round) {
    if (round == 2) {
      store_.reset();
      auto reopened = reopen();
      ASSERT_TRUE(reopened.ok());
      store_ = std::move(*reopened);
    }
    auto by_verifier = store_->find_grant_by_verifier(g.verifier);
    ASSERT_TRUE(by_verifier.ok() && by_verifier->has_value());
    check(**by_verifier, false);
  }
  // A v1 proof has no client data: the column is NULL, not an empty blob.
  EXPECT_EQ(raw_value("SELECT CAST(count(*) AS TEXT) FROM grants WHERE proof_client_data IS NULL"),
            "1");
  EXPECT_EQ(raw_value("SELECT name FROM grants WHERE proof_client_data IS NULL"), "old");
  // Renaming and revoking rewrite the MAC with the version and rp id kept.
  ASSERT_TRUE(store_->rename_grant("alice", "mail", "webmail", event("rename", "alice")).ok());
  auto renamed = store_->find_grant("alice", "webmail");
  ASSERT_TRUE(renamed.ok()) << renamed.error().message;
  check(*renamed, true);
  ASSERT_TRUE(store_->revoke_all_grants("alice", 1764000100, event("revoke", "alice")).ok());
  auto revoked = store_->find_grant_by_verifier(g.verifier);
  ASSERT_TRUE(revoked.ok() && revoked->has_value());
  check(**revoked, false);
  EXPECT_TRUE((*revoked)->revoked.has_value());
  EXPECT_TRUE(store_->verify_audit(std::nullopt).ok());
}

TEST_P(StoreContractTest, ARestrictedGrantRoundTripsWithItsNetworks) {
  const std::int64_t key = enroll("alice", "key");
  GrantRecord g = grant_v2(key, "alice", "office");
  g.networks = {"192.0.2.0/24", "2001:db8::/32"};
  ASSERT_TRUE(store_->add_grant(g, 2, event("issue", "alice", "office")).ok());
  ASSERT_TRUE(store_->add_grant(grant_v2(key, "alice", "any"), 3, event("issue", "alice")).ok());
  auto found = store_->find_grant("alice", "office");
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(found->networks, g.networks);
  EXPECT_TRUE(found->intact);
  EXPECT_TRUE(store_->find_grant("alice", "any")->networks.empty());
  // Verification's look-up, fresh, remembered, and after a restart; then after a rename and a
  // revoke, which rewrite the MAC.
  for (int round = 0; round < 3; ++round) {
    if (round == 2) {
      store_.reset();
      auto reopened = reopen();
      ASSERT_TRUE(reopened.ok());
      store_ = std::move(*reopened);
    }
    auto by_verifier = store_->find_grant_by_verifier(g.verifier);
    ASSERT_TRUE(by_verifier.ok() && by_verifier->has_value());
    EXPECT_EQ((*by_verifier)->networks, g.networks);
    EXPECT_TRUE((*by_verifier)->intact);
  }
  ASSERT_TRUE(store_->rename_grant("alice", "office", "desk", event("rename", "alice")).ok());
  ASSERT_TRUE(store_->revoke_grant("alice", "desk", 1764000100, event("revoke", "alice")).ok());
  auto revoked = store_->find_grant_by_verifier(g.verifier);
  ASSERT_TRUE(revoked.ok() && revoked->has_value());
  EXPECT_EQ((*revoked)->networks, g.networks);
  EXPECT_TRUE((*revoked)->intact);
  EXPECT_TRUE(store_->verify_audit(std::nullopt).ok());
}

TEST_P(StoreContractTest, ARestrictionChangedInTheDatabaseIsTampering) {
  const std::int64_t key = enroll("alice", "key");
  GrantRecord g = grant_v2(key, "alice", "office");
  g.networks = {"192.0.2.0/24"};
  ASSERT_TRUE(store_->add_grant(g, 2, event("issue", "alice", "office")).ok());
  const GrantRecord open = grant_v2(key, "alice", "any");
  ASSERT_TRUE(store_->add_grant(open, 3, event("issue", "alice", "any")).ok());
  // Read as listings read it (verification's look-up may remember a row it has seen).
  const auto intact = [&](const GrantRecord& which) {
    auto all = store_->list_grants("alice", true);
    EXPECT_TRUE(all.ok());
    for (const GrantRecord& found : all.ok() ? *all : std::vector<GrantRecord>{}) {
      if (found.grant_id == which.grant_id) return found.intact;
    }
    ADD_FAILURE() << which.name << " is not listed";
    return false;
  };
  ASSERT_TRUE(intact(g));
  ASSERT_TRUE(intact(open));
  // Removed, widened, or added to a grant that had none: each without the row key.
  for (const std::string networks : {"", "0.0.0.0/0", "192.0.2.0/24,198.51.100.0/24"}) {
    ASSERT_TRUE(
        raw_run("UPDATE grants SET networks = '" + networks + "' WHERE name = 'office'").ok());
    EXPECT_FALSE(intact(g)) << networks;
  }
  ASSERT_TRUE(raw_run("UPDATE grants SET networks = '192.0.2.0/24' WHERE name = 'office'").ok());
  EXPECT_TRUE(intact(g));
  ASSERT_TRUE(raw_run("UPDATE grants SET networks = '192.0.2.0/24' WHERE name = 'any'").ok());
  EXPECT_FALSE(intact(open));
  EXPECT_FALSE(store_->verify_audit(std::nullopt).ok());
}

TEST_P(StoreContractTest, AStoreFromBeforeRestrictionsIsMigratedAndItsGrantsKeepTheirMacs) {
  const std::int64_t key = enroll("alice", "key");
  const GrantRecord g = grant_v2(key, "alice", "mail");
  ASSERT_TRUE(store_->add_grant(g, 2, event("issue", "alice", "mail")).ok());
  const std::string mac = raw_value(
      "SELECT " + std::string(GetParam() == Backend::sqlite ? "hex(mac)" : "encode(mac, 'hex')") +
      " FROM grants");
  store_.reset();
  // SQLite schema v9, PostgreSQL schema v1: no networks column.
  ASSERT_TRUE(raw_run("ALTER TABLE grants DROP COLUMN networks").ok());
  ASSERT_TRUE(raw_run(GetParam() == Backend::sqlite ? "PRAGMA user_version=9"
                                                    : "UPDATE touchpass_schema SET version = 1")
                  .ok());
  auto migrated = reopen();
  ASSERT_TRUE(migrated.ok()) << migrated.error().message;
  store_ = std::move(*migrated);
  auto found = store_->find_grant("alice", "mail");
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_TRUE(found->networks.empty());
  EXPECT_TRUE(found->intact);
  EXPECT_EQ(
      raw_value("SELECT " +
                std::string(GetParam() == Backend::sqlite ? "hex(mac)" : "encode(mac, 'hex')") +
                " FROM grants"),
      mac);  // not rewritten
  GrantRecord office = grant_v2(key, "alice", "office");
  office.networks = {"192.0.2.0/24"};
  ASSERT_TRUE(store_->add_grant(office, 3, event("issue", "alice", "office")).ok());
  EXPECT_EQ(store_->find_grant("alice", "office")->networks, office.networks);
}

TEST_P(StoreContractTest, AGrantOfAnUnknownVersionIsRefusedAndNothingIsStored) {
  const std::int64_t key = enroll("alice", "key");
  const std::size_t entries = audit_count();
  GrantRecord g = grant_v2(key, "alice", "mail");
  g.version = 3;
  EXPECT_EQ(store_->add_grant(g, 2, event("issue", "alice")).code(), Code::invalid_argument);
  EXPECT_EQ(store_->find_grant("alice", "mail").code(), Code::not_found);
  EXPECT_EQ(audit_count(), entries);
  // Nor can the database hold one.
  ASSERT_TRUE(store_->add_grant(grant(key, "alice", "mail"), 2, event("issue", "alice")).ok());
  EXPECT_FALSE(raw_run("UPDATE grants SET version = 3").ok());
}

TEST_P(StoreContractTest, EmptyScopesMeanEveryService) {
  const std::int64_t key = enroll("alice", "key");
  GrantRecord g = grant(key, "alice", "all");
  g.scopes.clear();
  ASSERT_TRUE(store_->add_grant(g, 2, event("issue", "alice")).ok());
  EXPECT_TRUE(store_->find_grant("alice", "all")->scopes.empty());
}

TEST_P(StoreContractTest, RevokingATokenRevokesItsGrantsAndBlocksNewOnes) {
  const std::int64_t key = enroll("alice", "key");
  ASSERT_TRUE(store_->add_grant(grant(key, "alice", "a"), 2, event("issue", "alice")).ok());
  ASSERT_TRUE(store_->add_grant(grant(key, "alice", "b"), 3, event("issue", "alice")).ok());
  ASSERT_TRUE(store_->revoke_token(key, 1764000200, event("revoke", "alice", "key")).ok());
  EXPECT_TRUE(store_->list_grants("alice", false)->empty());
  Status s = store_->add_grant(grant(key, "alice", "c"), 4, event("issue", "alice"));
  EXPECT_EQ(s.code(), Code::not_found);
  EXPECT_EQ(store_->revoke_token(key, 1764000300, event("revoke", "alice")).code(),
            Code::not_found);
}

TEST_P(StoreContractTest, RevokeAllAndRename) {
  const std::int64_t key = enroll("alice", "key");
  ASSERT_TRUE(store_->add_grant(grant(key, "alice", "a"), 2, event("issue", "alice")).ok());
  ASSERT_TRUE(store_->add_grant(grant(key, "alice", "b"), 3, event("issue", "alice")).ok());
  EXPECT_EQ(store_->rename_grant("alice", "a", "b", event("rename", "alice")).code(),
            Code::invalid_argument);
  ASSERT_TRUE(store_->rename_grant("alice", "a", "phone", event("rename", "alice")).ok());
  EXPECT_TRUE(store_->find_grant("alice", "phone").ok());
  EXPECT_EQ(store_->rename_grant("alice", "nope", "x", event("rename", "alice")).code(),
            Code::not_found);
  auto n = store_->revoke_all_grants("alice", 1764000400, event("revoke", "alice"));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(store_->revoke_grant("alice", "b", 1764000500, event("revoke", "alice")).code(),
            Code::not_found);
}

TEST_P(StoreContractTest, AuditLogIsChainedAndVerifies) {
  const std::int64_t key = enroll("alice", "key");
  ASSERT_TRUE(store_->add_grant(grant(key, "alice", "a"), 2, event("issue", "alice", "a")).ok());
  AuditEvent refused = event("refuse", "bob");
  refused.result = "not_allowed";
  ASSERT_TRUE(store_->append_audit(refused).ok());
  auto entries = store_->list_audit("", 0);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].prev_hash, Bytes(32, 0));
  for (std::size_t i = 1; i < entries->size(); ++i) {
    EXPECT_EQ((*entries)[i].prev_hash, (*entries)[i - 1].hash);
    EXPECT_EQ((*entries)[i].hash,
              *keys()->audit_link((*entries)[i].prev_hash, (*entries)[i].seq, (*entries)[i].event));
  }
  EXPECT_TRUE(store_->verify_audit(std::nullopt).ok());
  auto bob = store_->list_audit("bob", 0);
  ASSERT_TRUE(bob.ok());
  ASSERT_EQ(bob->size(), 1u);
  EXPECT_EQ((*bob)[0].event.action, "refuse");
  auto newest = store_->list_audit("", 2);
  ASSERT_TRUE(newest.ok());
  ASSERT_EQ(newest->size(), 2u);
  EXPECT_EQ((*newest)[1].seq, 3);
}

TEST_P(StoreContractTest, AuditLogRefusesUpdatesAndDeletes) {
  enroll("alice", "key");
  EXPECT_FALSE(raw_run("UPDATE audit SET result = 'forged'").ok());
  EXPECT_FALSE(raw_run("DELETE FROM audit").ok());
  EXPECT_EQ(audit_count(), 1u);
  EXPECT_TRUE(store_->verify_audit(std::nullopt).ok());
}

TEST_P(StoreContractTest, UsageIsRecordedAndNeverGoesBackInTime) {
  const std::int64_t key = enroll("alice", "key");
  GrantRecord g = grant(key, "alice", "mail");
  ASSERT_TRUE(store_->add_grant(g, 2, event("issue", "alice")).ok());
  VerificationBatch batch;
  batch.usages = {{g.grant_id, 1764000500, "imap", "192.0.2.7"}};
  ASSERT_TRUE(store_->write_verification_batch(batch).ok());
  batch.usages = {{g.grant_id, 1764000400, "smtp", "192.0.2.8"}};  // older: ignored
  ASSERT_TRUE(store_->write_verification_batch(batch).ok());
  auto found = store_->find_grant("alice", "mail");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->last_used, 1764000500);
  EXPECT_EQ(found->last_service, "imap");
  EXPECT_EQ(found->last_remote, "192.0.2.7");
}

TEST_P(StoreContractTest, LocksAndAggregatedRefusalsAreWrittenInOneBatch) {
  VerificationBatch batch;
  batch.now = 1764000000;
  batch.throttles = {{"192.0.2.7", 10, 1764000000, 1764000900},
                     {"2001:db8::/64", 10, 1764000000, 1764000100}};
  batch.audits = {event("lockout", "alice", "192.0.2.7"), event("verify", "alice", "imap")};
  const std::size_t before = audit_count();
  ASSERT_TRUE(store_->write_verification_batch(batch).ok());
  EXPECT_EQ(audit_count(), before + 2);
  EXPECT_TRUE(store_->verify_audit(std::nullopt).ok());
  store_.reset();
  auto reopened = reopen();
  ASSERT_TRUE(reopened.ok());
  auto all = (*reopened)->list_throttles();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].key, "192.0.2.7");
  EXPECT_EQ((*all)[0].locked_until, 1764000900);
  // A lifted lock is removed, and one that has ended goes with the next batch.
  VerificationBatch next;
  next.now = 1764000200;
  next.throttles = {{"192.0.2.7", 0, 0, 0}};
  ASSERT_TRUE((*reopened)->write_verification_batch(next).ok());
  EXPECT_TRUE((*reopened)->list_throttles()->empty());
}

TEST_P(StoreContractTest, VerificationLookupsSeeCommittedGrantsAndRevokedTokens) {
  const std::int64_t key = enroll("alice", "key");
  GrantRecord g = grant(key, "alice", "mail");
  ASSERT_TRUE(store_->add_grant(g, 2, event("issue", "alice")).ok());
  auto found = store_->find_grant_by_verifier(g.verifier);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_FALSE((*found)->token_revoked);
  ASSERT_TRUE(store_->revoke_token(key, 1764000100, event("revoke", "alice")).ok());
  found = store_->find_grant_by_verifier(g.verifier);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_TRUE((*found)->token_revoked);
  EXPECT_TRUE((*found)->revoked.has_value());
}

TEST_P(StoreContractTest, ARollingChallengeIsReplacedWithTheGrantThatUsedIt) {
  TokenRecord yk = token("alice", "yubikey");
  yk.kind = TokenKind::yubikey;
  yk.credential = Bytes{0x00, 0xbc, 0x61, 0x4e, 0x02};
  yk.public_key.clear();
  yk.sign_count = 0;  // a YubiKey keeps no counter
  yk.rolling_challenge = Bytes(64, 0x01);
  yk.rolling_hash = Bytes(32, 0x02);
  auto id = store_->add_token(yk, event("enroll", "alice"));
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(store_->get_token(*id)->rolling_challenge, Bytes(64, 0x01));
  TokenState next;
  next.rolling_challenge = Bytes(64, 0x03);
  next.rolling_hash = Bytes(32, 0x04);
  next.answered_challenge = Bytes(64, 0x01);
  ASSERT_TRUE(store_->add_grant(grant(*id, "alice", "mail"), next, event("issue", "alice")).ok());
  EXPECT_EQ(store_->get_token(*id)->rolling_challenge, Bytes(64, 0x03));
  EXPECT_EQ(store_->get_token(*id)->rolling_hash, Bytes(32, 0x04));
  // A second use that answered the first challenge too (two ceremonies that raced) is out of
  // date: refused, and neither its grant nor its rolling values are stored.
  TokenState stale;
  stale.rolling_challenge = Bytes(64, 0x05);
  stale.rolling_hash = Bytes(32, 0x06);
  stale.answered_challenge = Bytes(64, 0x01);
  EXPECT_EQ(store_->add_grant(grant(*id, "alice", "late"), stale, event("issue", "alice")).code(),
            Code::verification_failed);
  EXPECT_EQ(store_->update_token_state(*id, stale, event("show", "alice")).code(),
            Code::verification_failed);
  EXPECT_EQ(store_->find_grant("alice", "late").code(), Code::not_found);
  EXPECT_EQ(store_->get_token(*id)->rolling_challenge, Bytes(64, 0x03));
  EXPECT_EQ(store_->get_token(*id)->rolling_hash, Bytes(32, 0x04));
  // A FIDO2-style update (counter only) keeps the rolling values.
  ASSERT_TRUE(store_->update_token_state(*id, 7, event("show", "alice")).ok());
  EXPECT_EQ(store_->get_token(*id)->rolling_hash, Bytes(32, 0x04));
  EXPECT_EQ(store_->get_token(*id)->sign_count, 7u);
}

TEST_P(StoreContractTest, ATokensCounterOnlyMovesForward) {
  const std::int64_t key = enroll("alice", "key");  // counter 1
  ASSERT_TRUE(store_->update_token_state(key, 9, event("show", "alice")).ok());
  // Two uses that raced: the one checked against counter 1 that reports 5 comes last.
  EXPECT_EQ(store_->update_token_state(key, 5, event("show", "alice")).code(),
            Code::clone_suspected);
  EXPECT_EQ(store_->update_token_state(key, 9, event("show", "alice")).code(),
            Code::clone_suspected);
  EXPECT_EQ(store_->add_grant(grant(key, "alice", "mail"), 8, event("issue", "alice")).code(),
            Code::clone_suspected);
  EXPECT_EQ(store_->find_grant("alice", "mail").code(), Code::not_found);
  EXPECT_EQ(store_->get_token(key)->sign_count, 9u);
  EXPECT_TRUE(store_->add_grant(grant(key, "alice", "mail"), 10, event("issue", "alice")).ok());
  EXPECT_EQ(store_->get_token(key)->sign_count, 10u);
}

TEST_P(StoreContractTest, FailuresAreCountedOneAtATimeAndLockAtTheLimit) {
  const FailureRule rule{3, 900};
  const UnixTime t = 1764000000;
  for (int i = 1; i <= 3; ++i) {
    auto counted = store_->end_attempt("192.0.2.7", t + i, true, rule);
    ASSERT_TRUE(counted.ok()) << counted.error().message;
    EXPECT_EQ(counted->failures, i);
    EXPECT_EQ(counted->last_failure, t + i);
    EXPECT_EQ(counted->locked_until, i < 3 ? 0 : t + 3 + 900);
  }
  auto state = store_->throttle_state("192.0.2.7");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->failures, 3);
  EXPECT_EQ(state->locked_until, t + 3 + 900);
  // Another key is counted on its own; one never counted has no failures.
  EXPECT_EQ(store_->end_attempt("192.0.2.8", t, true, rule)->failures, 1);
  auto none = store_->throttle_state("198.51.100.1");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->failures, 0);
  EXPECT_EQ(none->locked_until, 0);
  // A failure while locked (counted by a host that admitted it just before) keeps the lock.
  auto during = store_->end_attempt("192.0.2.7", t + 10, true, rule);
  ASSERT_TRUE(during.ok());
  EXPECT_EQ(during->locked_until, t + 3 + 900);
}

TEST_P(StoreContractTest, ARunOfFailuresStartsOverAfterItsLockOrALongPause) {
  const FailureRule rule{2, 900};
  const UnixTime t = 1764000000;
  ASSERT_TRUE(store_->end_attempt("192.0.2.7", t, true, rule).ok());
  ASSERT_EQ(store_->end_attempt("192.0.2.7", t + 1, true, rule)->locked_until, t + 901);
  auto after_lock = store_->end_attempt("192.0.2.7", t + 901, true, rule);
  ASSERT_TRUE(after_lock.ok());
  EXPECT_EQ(after_lock->failures, 1);
  EXPECT_EQ(after_lock->locked_until, 0);
  auto after_pause = store_->end_attempt("192.0.2.7", t + 901 + 900, true, rule);
  ASSERT_TRUE(after_pause.ok());
  EXPECT_EQ(after_pause->failures, 1);
  // Within the window the run goes on.
  EXPECT_EQ(store_->end_attempt("192.0.2.7", t + 901 + 1799, true, rule)->failures, 2);
}

TEST_P(StoreContractTest, AKeyWithoutALimitIsCountedButNeverLocked) {
  const FailureRule rule{0, 900};
  for (int i = 0; i < 30; ++i) {
    auto counted = store_->end_attempt("user:alice", 1764000000 + i, true, rule);
    ASSERT_TRUE(counted.ok());
    EXPECT_EQ(counted->locked_until, 0);
  }
  EXPECT_EQ(store_->throttle_state("user:alice")->failures, 30);
}

TEST_P(StoreContractTest, FailuresCountedAtOnceFromManyThreadsAllCount) {
  constexpr int kThreads = 4;
  constexpr int kEach = 25;
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < kEach; ++j) {
        if (!store_->end_attempt("192.0.2.7", 1764000000, true, FailureRule{0, 900}).ok()) ++errors;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(store_->throttle_state("192.0.2.7")->failures, kThreads * kEach);
}

TEST_P(StoreContractTest, CountsAreForgottenWhenLiftedOrOld) {
  const FailureRule rule{2, 900};
  const UnixTime t = 1764000000;
  for (const char* key : {"192.0.2.1", "192.0.2.2", "192.0.2.3"}) {
    ASSERT_TRUE(store_->end_attempt(key, t, true, rule).ok());
  }
  ASSERT_TRUE(store_->end_attempt("192.0.2.3", t + 100, true, rule).ok());  // locked until t + 1000
  ASSERT_TRUE(store_->forget_throttles({"192.0.2.1"}).ok());
  EXPECT_EQ(store_->throttle_state("192.0.2.1")->failures, 0);
  EXPECT_EQ(store_->throttle_state("192.0.2.2")->failures, 1);
  // The batch forgets unlocked runs last failed before forget_before, and ended locks.
  VerificationBatch batch;
  batch.now = t + 200;
  batch.forget_before = t;
  batch.audits = {event("lockout", "alice", "192.0.2.3")};
  ASSERT_TRUE(store_->write_verification_batch(batch).ok());
  EXPECT_EQ(store_->throttle_state("192.0.2.2")->failures, 0);
  EXPECT_EQ(store_->throttle_state("192.0.2.3")->failures, 2);  // still locked
  ASSERT_TRUE(store_->forget_throttles({}).ok());
  EXPECT_EQ(store_->throttle_state("192.0.2.3")->failures, 0);
}

TEST_P(StoreContractTest, ThePepperFingerprintIsRecordedOnceAndTheFirstStays) {
  auto none = store_->pepper_fingerprint();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_FALSE(*store_->holds_data());
  ASSERT_TRUE(store_->set_pepper_fingerprint(Bytes(16, 0x01)).ok());
  ASSERT_TRUE(store_->set_pepper_fingerprint(Bytes(16, 0x02)).ok());
  auto again = reopen();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->pepper_fingerprint()->value(), Bytes(16, 0x01));
  enroll("alice", "key");
  EXPECT_TRUE(*store_->holds_data());
}

TEST_P(StoreContractTest, TheAuditHeadIsTheNewestEntryAndTheAnchorIsChecked) {
  enroll("alice", "k1");
  enroll("alice", "k2");
  auto head = store_->audit_head();
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->seq, 2);
  EXPECT_TRUE(store_->check_audit_anchor(*head).ok());
  AuditHead ahead = *head;
  ahead.seq = 5;
  EXPECT_EQ(store_->check_audit_anchor(ahead).code(), Code::integrity);
  AuditHead rewritten = *head;
  rewritten.hash = Bytes(32, 0x77);
  EXPECT_EQ(store_->check_audit_anchor(rewritten).code(), Code::integrity);
  EXPECT_TRUE(store_->verify_audit(*head).ok());
}

TEST_P(StoreContractTest, AnInvitationEnrollsOnceAndIsRecorded) {
  InvitationRecord invitation;
  invitation.user = "alice";
  invitation.code_hash = Bytes(32, 0x42);
  invitation.created = 1764000000;
  invitation.expires = 1764003600;
  invitation.created_by = "root";
  auto id = store_->add_invitation(invitation, event("invite", "alice"));
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(store_->add_invitation(invitation, event("invite", "alice")).code(),
            Code::invalid_argument);
  auto found = store_->find_invitation(invitation.code_hash);
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(found->id, *id);
  EXPECT_FALSE(found->used.has_value());
  auto token_id = store_->add_invited_token(token("alice", "web key"), invitation.code_hash,
                                            1764000100, event("enroll", "alice"));
  ASSERT_TRUE(token_id.ok()) << token_id.error().message;
  EXPECT_EQ(store_->find_invitation(invitation.code_hash)->used, 1764000100);
  EXPECT_EQ(store_
                ->add_invited_token(token("alice", "again"), invitation.code_hash, 1764000200,
                                    event("enroll", "alice"))
                .code(),
            Code::invalid_argument);
  EXPECT_EQ(store_->find_invitation(Bytes(32, 0x43)).code(), Code::not_found);
  EXPECT_TRUE(store_->verify_audit(std::nullopt).ok());
}

TEST_P(StoreContractTest, AnAttemptIsReservedOnlyWhileFailuresAndAttemptsStayBelowTheLimit) {
  const FailureRule rule{3, 900};
  const UnixTime t = 1764000000;
  for (int i = 0; i < 3; ++i) {
    auto reserved = store_->reserve_attempt("192.0.2.7", t, rule);
    ASSERT_TRUE(reserved.ok()) << reserved.error().message;
    EXPECT_TRUE(reserved->admitted) << i;
  }
  auto full = store_->reserve_attempt("192.0.2.7", t, rule);
  ASSERT_TRUE(full.ok());
  EXPECT_FALSE(full->admitted);
  EXPECT_EQ(full->state.locked_until, 0) << "full, not locked: ask again";
  // One ends well: room for another. Two fail: with the third, failures reach the limit.
  ASSERT_TRUE(store_->end_attempt("192.0.2.7", t, false, rule).ok());
  EXPECT_TRUE(store_->reserve_attempt("192.0.2.7", t, rule)->admitted);
  ASSERT_EQ(store_->end_attempt("192.0.2.7", t, true, rule)->failures, 1);
  ASSERT_EQ(store_->end_attempt("192.0.2.7", t, true, rule)->failures, 2);
  auto third = store_->end_attempt("192.0.2.7", t + 1, true, rule);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->failures, 3);
  EXPECT_EQ(third->locked_until, t + 1 + 900);
  auto locked = store_->reserve_attempt("192.0.2.7", t + 2, rule);
  ASSERT_TRUE(locked.ok());
  EXPECT_FALSE(locked->admitted);
  EXPECT_EQ(locked->state.locked_until, t + 1 + 900);
  // After the lock, the run starts over.
  EXPECT_TRUE(store_->reserve_attempt("192.0.2.7", t + 1 + 900, rule)->admitted);
}

TEST_P(StoreContractTest, AttemptsAHostAbandonedAreForgottenAfterAWhile) {
  FailureRule rule{2, 900};
  rule.abandoned_after = 30;
  const UnixTime t = 1764000000;
  ASSERT_TRUE(store_->reserve_attempt("192.0.2.7", t, rule)->admitted);
  ASSERT_TRUE(store_->reserve_attempt("192.0.2.7", t, rule)->admitted);
  EXPECT_FALSE(store_->reserve_attempt("192.0.2.7", t + 29, rule)->admitted);
  // Their host stopped without ending them: 30 s after the newest they no longer count.
  EXPECT_TRUE(store_->reserve_attempt("192.0.2.7", t + 30, rule)->admitted);
}

TEST_P(StoreContractTest, ReservationsMadeAtOnceNeverPassTheLimit) {
  const FailureRule rule{10, 900};
  std::atomic<int> admitted{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> guessers;
  for (int i = 0; i < 4; ++i) {
    guessers.emplace_back([&] {
      for (int j = 0; j < 15; ++j) {
        auto reserved = store_->reserve_attempt("192.0.2.7", 1764000000, rule);
        if (!reserved.ok()) {
          ++errors;
          continue;
        }
        if (!reserved->admitted) continue;
        ++admitted;
        if (!store_->end_attempt("192.0.2.7", 1764000000, true, rule).ok()) ++errors;
      }
    });
  }
  for (auto& g : guessers) g.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(admitted.load(), 10);
  EXPECT_EQ(store_->throttle_state("192.0.2.7")->failures, 10);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContractTest,
                         ::testing::Values(Backend::sqlite, Backend::postgresql),
                         backend_test_name);

}  // namespace
}  // namespace touchpass::store
