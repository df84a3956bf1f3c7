#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "store/audit_chain.h"
#include "store/integrity.h"
#include "store_fixture.h"

namespace touchpass::store {
namespace {

namespace fs = std::filesystem;

TEST_F(SqliteStoreTest, CreatesAPrivateFileAtTheCurrentSchemaVersion) {
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), kSqliteSchemaVersion);
  sqlite3_finalize(stmt);
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(SqliteStoreTest, RefusesADatabaseFromANewerVersionAndLeavesItAlone) {
  const std::int64_t id = enroll("alice", "key");
  store_.reset();
  ASSERT_EQ(raw_exec("PRAGMA user_version=99"), SQLITE_OK);
  auto reopened = open_sqlite_store(path_);
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.code(), Code::invalid_argument);
  EXPECT_NE(reopened.error().message.find("newer"), std::string::npos);
  ASSERT_EQ(raw_exec("PRAGMA user_version=" + std::to_string(kSqliteSchemaVersion)), SQLITE_OK);
  auto again = open_keyed(path_);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)->get_token(id).ok());
}

TEST_F(SqliteStoreTest, RefusesAFileThatIsNotADatabase) {
  const fs::path bad = dir_ / "garbage.db";
  std::ofstream(bad) << "this is not a database, just some text that is long enough";
  auto s = open_sqlite_store(bad);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::io_error);
}

TEST_F(SqliteStoreTest, TokensPersistAcrossReopen) {
  const std::int64_t id = enroll("alice", "blue key");
  store_.reset();
  auto reopened = open_keyed(path_);
  ASSERT_TRUE(reopened.ok());
  auto t = (*reopened)->get_token(id);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->user, "alice");
  EXPECT_EQ(t->label, "blue key");
  EXPECT_EQ(t->public_key, Bytes(64, 0x04));
  EXPECT_TRUE(t->is_virtual);
  EXPECT_FALSE(t->revoked.has_value());
}

TEST_F(SqliteStoreTest, TokenLabelsAreUniquePerUserAndAFailedEnrollStoresNothing) {
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

TEST_F(SqliteStoreTest, GrantNamesAreUniquePerUserAmongActiveGrants) {
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

TEST_F(SqliteStoreTest, AGrantRoundTripsAndRecordsTheSignCount) {
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

TEST_F(SqliteStoreTest, AVersion2GrantRoundTripsWithItsRpIdAndClientData) {
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
      auto reopened = open_keyed(path_);
      ASSERT_TRUE(reopened.ok());
      store_ = std::move(*reopened);
    }
    auto by_verifier = store_->find_grant_by_verifier(g.verifier);
    ASSERT_TRUE(by_verifier.ok() && by_verifier->has_value());
    check(**by_verifier, false);
  }
  // A v1 proof has no client data: the column is NULL, not an empty blob.
  EXPECT_EQ(raw_value("SELECT count(*) FROM grants WHERE proof_client_data IS NULL"), "1");
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

TEST_F(SqliteStoreTest, AGrantOfAnUnknownVersionIsRefusedAndNothingIsStored) {
  const std::int64_t key = enroll("alice", "key");
  const std::size_t entries = audit_count();
  GrantRecord g = grant_v2(key, "alice", "mail");
  g.version = 3;
  EXPECT_EQ(store_->add_grant(g, 2, event("issue", "alice")).code(), Code::invalid_argument);
  EXPECT_EQ(store_->find_grant("alice", "mail").code(), Code::not_found);
  EXPECT_EQ(audit_count(), entries);
  // Nor can the database hold one.
  ASSERT_TRUE(store_->add_grant(grant(key, "alice", "mail"), 2, event("issue", "alice")).ok());
  EXPECT_EQ(raw_exec("UPDATE grants SET version = 3"), SQLITE_CONSTRAINT);
}

TEST_F(SqliteStoreTest, EmptyScopesMeanEveryService) {
  const std::int64_t key = enroll("alice", "key");
  GrantRecord g = grant(key, "alice", "all");
  g.scopes.clear();
  ASSERT_TRUE(store_->add_grant(g, 2, event("issue", "alice")).ok());
  EXPECT_TRUE(store_->find_grant("alice", "all")->scopes.empty());
}

TEST_F(SqliteStoreTest, RevokingATokenRevokesItsGrantsAndBlocksNewOnes) {
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

TEST_F(SqliteStoreTest, RevokeAllAndRename) {
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

TEST_F(SqliteStoreTest, AuditLogIsChainedAndVerifies) {
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

TEST_F(SqliteStoreTest, AuditLogRefusesUpdatesAndDeletes) {
  enroll("alice", "key");
  EXPECT_NE(raw_exec("UPDATE audit SET result = 'forged'"), SQLITE_OK);
  EXPECT_NE(raw_exec("DELETE FROM audit"), SQLITE_OK);
  EXPECT_EQ(audit_count(), 1u);
  EXPECT_TRUE(store_->verify_audit(std::nullopt).ok());
}

TEST_F(SqliteStoreTest, VerifyFindsAnAlteredEntry) {
  enroll("alice", "k1");
  enroll("alice", "k2");
  enroll("alice", "k3");
  // Someone with write access to the file drops the guard and edits history.
  ASSERT_EQ(raw_exec("DROP TRIGGER audit_append_only_update;"
                     "UPDATE audit SET actor = 'mallory' WHERE seq = 2;"),
            SQLITE_OK);
  Status s = store_->verify_audit(std::nullopt);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::integrity);
  EXPECT_NE(s.error().message.find("entry 2"), std::string::npos) << s.error().message;
}

TEST_F(SqliteStoreTest, VerifyFindsARemovedEntry) {
  enroll("alice", "k1");
  enroll("alice", "k2");
  enroll("alice", "k3");
  ASSERT_EQ(raw_exec("DROP TRIGGER audit_append_only_delete; DELETE FROM audit WHERE seq = 2;"),
            SQLITE_OK);
  Status s = store_->verify_audit(std::nullopt);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("2"), std::string::npos) << s.error().message;
}

TEST_F(SqliteStoreTest, UsageIsRecordedAndNeverGoesBackInTime) {
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

TEST_F(SqliteStoreTest, LocksAndAggregatedRefusalsAreWrittenInOneBatch) {
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
  auto reopened = open_keyed(path_);
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

TEST_F(SqliteStoreTest, ASchemaVersion3StoreKeepsItsLockedAddresses) {
  downgrade_to_legacy();
  ASSERT_EQ(raw_exec("INSERT INTO throttle VALUES ('remote:192.0.2.7', 10, 1, 1764000900), "
                     "('user:alice', 10, 1, 1764000900), ('remote:192.0.2.8', 3, 1, 0); "
                     "PRAGMA user_version=3"),
            SQLITE_OK);
  auto migrated = open_keyed(path_);
  ASSERT_TRUE(migrated.ok()) << migrated.error().message;
  auto all = (*migrated)->list_throttles();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].key, "192.0.2.7");
}

TEST_F(SqliteStoreTest, VerificationLookupsSeeCommittedGrantsAndRevokedTokens) {
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

TEST_F(SqliteStoreTest, ASchemaVersion1StoreIsMigratedKeepingItsData) {
  const std::int64_t id = enroll("alice", "key");
  downgrade_to_legacy();
  ASSERT_EQ(raw_exec("DROP TABLE throttle; ALTER TABLE tokens DROP COLUMN rolling_challenge; "
                     "ALTER TABLE tokens DROP COLUMN rolling_hash; PRAGMA user_version=1"),
            SQLITE_OK);
  auto migrated = open_keyed(path_);
  ASSERT_TRUE(migrated.ok()) << migrated.error().message;
  EXPECT_TRUE((*migrated)->get_token(id).ok());
  EXPECT_TRUE((*migrated)->list_throttles().ok());
  EXPECT_TRUE((*migrated)->verify_audit(std::nullopt).ok());
}

TEST_F(SqliteStoreTest, ASchemaVersion6StoreIsMigratedAndItsGrantsKeepTheirMacs) {
  const std::int64_t key = enroll("alice", "key");
  const GrantRecord mail = grant(key, "alice", "mail");
  ASSERT_TRUE(store_->add_grant(mail, 2, event("issue", "alice")).ok());
  ASSERT_TRUE(store_->revoke_grant("alice", "mail", 1764000100, event("revoke", "alice")).ok());
  const GrantRecord phone = grant(key, "alice", "phone");
  ASSERT_TRUE(store_->add_grant(phone, 3, event("issue", "alice")).ok());
  ASSERT_TRUE(store_->rename_grant("alice", "phone", "tablet", event("rename", "alice")).ok());
  const std::string macs =
      "SELECT group_concat(hex(mac), ',') FROM (SELECT mac FROM grants "
      "ORDER BY grant_id)";
  const std::string before = raw_value(macs);
  downgrade_to_v6();
  ASSERT_EQ(raw_value("PRAGMA user_version"), "6");
  auto migrated = open_keyed(path_);
  ASSERT_TRUE(migrated.ok()) << migrated.error().message;
  store_ = std::move(*migrated);
  EXPECT_EQ(raw_value("PRAGMA user_version"), std::to_string(kSqliteSchemaVersion));
  EXPECT_EQ(raw_value(macs), before);  // no row was rewritten
  auto all = store_->list_grants("alice", true);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  for (const GrantRecord& g : *all) {
    EXPECT_EQ(g.version, 1u) << g.name;
    EXPECT_TRUE(g.rp_id.empty()) << g.name;
    EXPECT_TRUE(g.proof_client_data.empty()) << g.name;
    EXPECT_TRUE(g.intact) << g.name;
  }
  auto active = store_->find_grant_by_verifier(phone.verifier);
  ASSERT_TRUE(active.ok() && active->has_value());
  EXPECT_TRUE((*active)->intact);
  EXPECT_EQ((*active)->name, "tablet");
  EXPECT_FALSE((*active)->revoked.has_value());
  auto revoked = store_->find_grant_by_verifier(mail.verifier);
  ASSERT_TRUE(revoked.ok() && revoked->has_value());
  EXPECT_TRUE((*revoked)->intact);
  EXPECT_TRUE((*revoked)->revoked.has_value());
  EXPECT_TRUE(store_->find_grant("alice", "tablet").ok());
  EXPECT_TRUE(store_->verify_audit(std::nullopt).ok())
      << store_->verify_audit(std::nullopt).message();
  // The migrated store takes v2 grants.
  ASSERT_TRUE(store_->add_grant(grant_v2(key, "alice", "web"), 4, event("issue", "alice")).ok());
  EXPECT_EQ(store_->find_grant("alice", "web")->version, 2u);
}

TEST_F(SqliteStoreTest, ARollingChallengeIsReplacedWithTheGrantThatUsedIt) {
  TokenRecord yk = token("alice", "yubikey");
  yk.kind = TokenKind::yubikey;
  yk.credential = Bytes{0x00, 0xbc, 0x61, 0x4e, 0x02};
  yk.public_key.clear();
  yk.rolling_challenge = Bytes(64, 0x01);
  yk.rolling_hash = Bytes(32, 0x02);
  auto id = store_->add_token(yk, event("enroll", "alice"));
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(store_->get_token(*id)->rolling_challenge, Bytes(64, 0x01));
  TokenState next;
  next.rolling_challenge = Bytes(64, 0x03);
  next.rolling_hash = Bytes(32, 0x04);
  ASSERT_TRUE(store_->add_grant(grant(*id, "alice", "mail"), next, event("issue", "alice")).ok());
  EXPECT_EQ(store_->get_token(*id)->rolling_challenge, Bytes(64, 0x03));
  EXPECT_EQ(store_->get_token(*id)->rolling_hash, Bytes(32, 0x04));
  // A FIDO2-style update (counter only) keeps the rolling values.
  ASSERT_TRUE(store_->update_token_state(*id, 7, event("show", "alice")).ok());
  EXPECT_EQ(store_->get_token(*id)->rolling_hash, Bytes(32, 0x04));
  EXPECT_EQ(store_->get_token(*id)->sign_count, 7u);
}

}  // namespace
}  // namespace touchpass::store
