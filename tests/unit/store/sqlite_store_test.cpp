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

TEST_F(SqliteStoreTest, ASchemaVersion3StoreKeepsItsLockedAddresses) {
  downgrade_to_legacy();
  ASSERT_EQ(raw_exec("INSERT INTO throttle (key, failures, last_failure, locked_until) VALUES "
                     "('remote:192.0.2.7', 10, 1, 1764000900), "
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

TEST_F(SqliteStoreTest, ASchemaVersion9StoreIsMigratedAndItsGrantsStayUnrestricted) {
  const std::int64_t key = enroll("alice", "key");
  const GrantRecord web = grant_v2(key, "alice", "web");
  ASSERT_TRUE(store_->add_grant(web, 2, event("issue", "alice")).ok());
  const std::string macs = "SELECT group_concat(hex(mac), ',') FROM grants";
  const std::string before = raw_value(macs);
  store_.reset();
  ASSERT_EQ(raw_exec("ALTER TABLE grants DROP COLUMN networks; PRAGMA user_version=9"), SQLITE_OK);
  auto migrated = open_keyed(path_);
  ASSERT_TRUE(migrated.ok()) << migrated.error().message;
  store_ = std::move(*migrated);
  EXPECT_EQ(raw_value("PRAGMA user_version"), std::to_string(kSqliteSchemaVersion));
  EXPECT_EQ(raw_value(macs), before);  // no row was rewritten
  auto found = store_->find_grant_by_verifier(web.verifier);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_TRUE((*found)->intact);
  EXPECT_TRUE((*found)->networks.empty());
  // The migrated store takes restricted grants.
  GrantRecord office = grant_v2(key, "alice", "office");
  office.networks = {"192.0.2.0/24"};
  ASSERT_TRUE(store_->add_grant(office, 3, event("issue", "alice")).ok());
  EXPECT_EQ(store_->find_grant("alice", "office")->networks, office.networks);
}

}  // namespace
}  // namespace touchpass::store
