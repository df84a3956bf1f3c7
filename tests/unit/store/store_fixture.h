// The store tests' fixtures: a fresh store with its keys — on each backend (StoreContractTest)
// or on an SQLite file (SqliteStoreTest) — and the means of an attacker with write access to
// the database.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "store/audit_chain.h"
#include "store/integrity.h"
#include "store/sql_connection.h"
#include "store/sqlite_store.h"
#include "support/store_database.h"

namespace touchpass::store {

// What every store test uses: the store under test, its keys, and records to put in it.
class StoreFixture : public ::testing::Test {
 protected:
  // The keys a daemon would derive from its pepper.
  static std::shared_ptr<const StoreKeys> keys() {
    static const auto derived = StoreKeys::derive(Bytes(32, 0x5a));
    return *derived;
  }

  static AuditEvent event(std::string action, std::string user, std::string object = "") {
    AuditEvent e;
    e.time = 1764000000;
    e.actor_uid = 1000;
    e.actor = user;
    e.action = std::move(action);
    e.user = std::move(user);
    e.object = std::move(object);
    e.result = "ok";
    return e;
  }

  static TokenRecord token(std::string user, std::string label) {
    TokenRecord t;
    t.user = std::move(user);
    t.label = std::move(label);
    t.kind = TokenKind::fido2;
    t.credential = Bytes(32, 0xaa);
    t.rp_id = "touchpass:host";
    t.algorithm = -7;
    t.public_key = Bytes(64, 0x04);
    t.uv = "pin";
    t.sign_count = 1;
    t.aaguid = Bytes(16, 0x11);
    t.attestation_format = "packed";
    t.device = "touchpass virtual token";
    t.is_virtual = true;
    t.created = 1764000000;
    return t;
  }

  GrantRecord grant(std::int64_t token_id, std::string user, std::string name) {
    GrantRecord g;
    g.grant_id = Bytes(16);
    for (auto& b : g.grant_id) b = static_cast<std::uint8_t>(rng_());
    g.user = std::move(user);
    g.name = std::move(name);
    g.scopes = {"imap", "smtp"};
    g.created = 1764000000;
    g.expires = 0;
    g.token_id = token_id;
    g.kind = TokenKind::fido2;
    g.credential = Bytes(32, 0xaa);
    g.verifier = Bytes(32);
    for (auto& b : g.verifier) b = static_cast<std::uint8_t>(rng_());
    g.proof_auth_data = Bytes(37, 0x01);
    g.proof_signature = Bytes(70, 0x02);
    return g;
  }

  // A version 2 FIDO2 grant, with its relying party and the clientDataJSON its proof signed.
  GrantRecord grant_v2(std::int64_t token_id, std::string user, std::string name) {
    GrantRecord g = grant(token_id, std::move(user), std::move(name));
    g.version = 2;
    g.rp_id = "mail.example.org";
    const std::string client_data =
        R"({"type":"webauthn.get","challenge":"AAAA","origin":"https://mail.example.org"})";
    g.proof_client_data.assign(client_data.begin(), client_data.end());
    return g;
  }

  std::int64_t enroll(const std::string& user, const std::string& label) {
    auto id = store_->add_token(token(user, label), event("enroll", user, label));
    EXPECT_TRUE(id.ok()) << id.error().message;
    return id.ok() ? *id : 0;
  }

  std::size_t audit_count() {
    auto entries = store_->list_audit("", 0);
    EXPECT_TRUE(entries.ok());
    return entries.ok() ? entries->size() : 0;
  }

  std::mt19937 rng_{42};
  std::unique_ptr<SqlStore> store_;
};

// The contract of the store (sql_store.h), run unchanged on each backend.
class StoreContractTest : public StoreFixture, public ::testing::WithParamInterface<Backend> {
 protected:
  void SetUp() override {
    std::string skip, error;
    db_ = StoreDatabase::create(GetParam(), &skip, &error);
    if (!skip.empty()) GTEST_SKIP() << skip;
    ASSERT_NE(db_, nullptr) << error;
    auto s = reopen();
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    db_.reset();
  }
  // Opens the test's database again and gives it its keys, as touchpassd does at start.
  Result<std::unique_ptr<SqlStore>> reopen() {
    auto s = db_->open();
    if (!s.ok()) return s;
    if (Status k = (*s)->use_keys(keys(), 1764000000, true); !k.ok()) return k.error();
    return s;
  }
  // Runs SQL (written for both backends) on a connection of its own: an attacker or a bug.
  Status raw_run(const std::string& sql) {
    auto c = db_->raw();
    if (!c.ok()) return c.error();
    return sql::Query(**c, sql).run("run the test's SQL");
  }
  // The first column of the first row of `sql` as text ("" when there is no row), read on a
  // connection of its own.
  std::string raw_value(const std::string& sql) {
    auto c = db_->raw();
    if (!c.ok()) return "(" + c.error().message + ")";
    sql::Query q(**c, sql);
    return q.step() == sql::Step::row ? q.text(0) : std::string();
  }
  std::unique_ptr<StoreDatabase> db_;
};

inline std::string backend_test_name(const ::testing::TestParamInfo<Backend>& info) {
  return backend_name(info.param);
}

// Tests of what only the SQLite store has: its file, PRAGMAs, migrations of old schemas.
class SqliteStoreTest : public StoreFixture {
 protected:
  using path = std::filesystem::path;
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("touchpass-store-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = dir_ / "store.db";
    auto s = open_keyed(path_);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
  }

  // Opens the store at `path` and gives it its keys, as touchpassd does at start.
  static Result<std::unique_ptr<SqlStore>> open_keyed(const std::filesystem::path& path) {
    auto s = open_sqlite_store(path);
    if (!s.ok()) return s;
    if (Status k = (*s)->use_keys(keys(), 1764000000, true); !k.ok()) return k.error();
    return s;
  }

  // Turns the store (closed here) into one a touchpass of schema v6 would have left: grants
  // without version, rp id or client data (its grants must be version 1 without an rp id).
  void downgrade_to_v6() {
    store_.reset();
    ASSERT_EQ(raw_exec("ALTER TABLE throttle DROP COLUMN pending; "
                       "ALTER TABLE throttle DROP COLUMN pending_since; "
                       "DROP TABLE invitations; ALTER TABLE grants DROP COLUMN version; "
                       "ALTER TABLE grants DROP COLUMN rp_id; "
                       "ALTER TABLE grants DROP COLUMN proof_client_data; "
                       "ALTER TABLE grants DROP COLUMN networks; PRAGMA user_version=6"),
              SQLITE_OK);
  }

  // Turns the store (closed here) into one a touchpass before schema v6 would have left: no
  // MACs, no record of keying, every audit link plain SHA-256.
  void downgrade_to_legacy() {
    auto entries = store_->list_audit("", 0);
    ASSERT_TRUE(entries.ok());
    downgrade_to_v6();
    ASSERT_EQ(raw_exec("DROP TRIGGER audit_append_only_update; "
                       "ALTER TABLE tokens DROP COLUMN mac; ALTER TABLE grants DROP COLUMN mac; "
                       "DELETE FROM meta WHERE key = 'audit_keyed_from'; PRAGMA user_version=5"),
              SQLITE_OK);
    Bytes prev(32, 0);
    for (const AuditEntry& e : *entries) {
      const Bytes hash = audit_entry_hash(prev, e.seq, e.event);
      ASSERT_EQ(raw_exec("UPDATE audit SET prev_hash = x'" + to_hex(prev) + "', hash = x'" +
                         to_hex(hash) + "' WHERE seq = " + std::to_string(e.seq)),
                SQLITE_OK);
      prev = hash;
    }
    ASSERT_EQ(raw_exec("CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit BEGIN "
                       "SELECT RAISE(ABORT, 'the audit log is append-only'); END;"),
              SQLITE_OK);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Runs raw SQL on the database file through a separate connection (an attacker or a bug).
  int raw_exec(const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_open(path_.c_str(), &db);
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
    sqlite3_close(db);
    return rc;
  }

  // The first column of the first row of `sql`, as text ("" when there is no row), read
  // through a separate connection.
  std::string raw_value(const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_open(path_.c_str(), &db);
    sqlite3_stmt* stmt = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
  }

  static inline int counter_ = 0;
  std::filesystem::path dir_;
  std::filesystem::path path_;
};

}  // namespace touchpass::store
