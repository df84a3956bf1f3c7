#include "store/sqlite_schema.h"

#include <iterator>
#include <string>
#include <string_view>

#include "store/sql_support.h"

namespace touchpass::store::sql {

namespace {

// Schema migrations: kMigrations[i] brings the schema from version i to i + 1.
constexpr std::string_view kMigrations[] = {
    R"sql(
CREATE TABLE tokens (
  id INTEGER PRIMARY KEY,
  user TEXT NOT NULL,
  label TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('fido2', 'yubikey')),
  credential BLOB NOT NULL,
  rp_id TEXT NOT NULL,
  algorithm INTEGER NOT NULL,
  public_key BLOB NOT NULL,
  uv TEXT NOT NULL CHECK (uv IN ('pin', 'presence')),
  sign_count INTEGER NOT NULL,
  aaguid BLOB NOT NULL,
  attestation_format TEXT NOT NULL,
  attestation_x5c BLOB NOT NULL,
  device TEXT NOT NULL,
  is_virtual INTEGER NOT NULL,
  created INTEGER NOT NULL,
  revoked INTEGER
);
CREATE UNIQUE INDEX tokens_active_label ON tokens (user, label) WHERE revoked IS NULL;

CREATE TABLE grants (
  grant_id BLOB PRIMARY KEY CHECK (length(grant_id) = 16),
  user TEXT NOT NULL,
  name TEXT NOT NULL,
  scopes TEXT NOT NULL,
  created INTEGER NOT NULL,
  expires INTEGER NOT NULL,
  token_id INTEGER NOT NULL REFERENCES tokens (id),
  kind TEXT NOT NULL,
  credential BLOB NOT NULL,
  verifier BLOB NOT NULL UNIQUE CHECK (length(verifier) = 32),
  proof_auth_data BLOB NOT NULL,
  proof_signature BLOB NOT NULL,
  revoked INTEGER,
  last_used INTEGER,
  last_service TEXT NOT NULL DEFAULT '',
  last_remote TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX grants_active_name ON grants (user, name) WHERE revoked IS NULL;
CREATE INDEX grants_token ON grants (token_id);

CREATE TABLE audit (
  seq INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  actor_uid INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  user TEXT NOT NULL,
  object TEXT NOT NULL,
  result TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL
);
CREATE INDEX audit_user ON audit (user);
CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
)sql",
    R"sql(
CREATE TABLE throttle (
  key TEXT PRIMARY KEY,
  failures INTEGER NOT NULL,
  last_failure INTEGER NOT NULL,
  locked_until INTEGER NOT NULL
);
)sql",
    R"sql(
ALTER TABLE tokens ADD COLUMN rolling_challenge BLOB NOT NULL DEFAULT x'';
ALTER TABLE tokens ADD COLUMN rolling_hash BLOB NOT NULL DEFAULT x'';
)sql",
    // v4: a throttle entry is a locked source (a client address or network); per-user counts
    // live in memory only.
    R"sql(
DELETE FROM throttle WHERE key NOT LIKE 'remote:%' OR locked_until = 0;
UPDATE throttle SET key = substr(key, 8);
)sql",
    // v5: facts about the store itself (the pepper's fingerprint).
    R"sql(
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value BLOB NOT NULL
);
)sql",
    // v6: a MAC on every grant and token row (under a key derived from the pepper), so that a
    // database writer without the pepper can neither add, revive nor extend a password. Rows of
    // an older store get theirs once, when touchpassd first opens it with its pepper.
    R"sql(
ALTER TABLE grants ADD COLUMN mac BLOB NOT NULL DEFAULT x'';
ALTER TABLE tokens ADD COLUMN mac BLOB NOT NULL DEFAULT x'';
)sql",
    // v7: a grant's format version and relying-party id (both in its MAC unless 1 and empty,
    // so the MACs of older rows still match), and the clientDataJSON a v2 FIDO2 issue proof
    // was signed over. Every older grant is a version 1 grant without an rp id.
    R"sql(
ALTER TABLE grants ADD COLUMN version INTEGER NOT NULL DEFAULT 1 CHECK (version IN (1, 2));
ALTER TABLE grants ADD COLUMN rp_id TEXT NOT NULL DEFAULT '';
ALTER TABLE grants ADD COLUMN proof_client_data BLOB;
)sql",
    // v8: one-time invitations to enroll a first key through touchpass-web, by the hash of their
    // code, each with its MAC (integrity.h).
    R"sql(
CREATE TABLE invitations (
  id INTEGER PRIMARY KEY,
  user TEXT NOT NULL,
  code_hash BLOB NOT NULL UNIQUE CHECK (length(code_hash) = 32),
  created INTEGER NOT NULL,
  expires INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  used INTEGER,
  mac BLOB NOT NULL
);
CREATE INDEX invitations_user ON invitations (user);
)sql",
    // v9: attempts under evaluation, for stores that several hosts share (postgres_store.h,
    // VerificationStore::reserve_attempt); the schema is the same for both.
    R"sql(
ALTER TABLE throttle ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE throttle ADD COLUMN pending_since INTEGER NOT NULL DEFAULT 0;
)sql",
    // v10: the networks a grant may be used from (core/source_networks.h), joined by ",", in
    // its MAC when not empty; every older grant may be used from anywhere, and its MAC matches
    // as before.
    R"sql(
ALTER TABLE grants ADD COLUMN networks TEXT NOT NULL DEFAULT '';
)sql",
};
static_assert(std::size(kMigrations) == static_cast<std::size_t>(kSqliteSchemaVersionMigrated));

}  // namespace

Status migrate(SqliteConnection& db) {
  Query version(db, "PRAGMA user_version");
  if (version.step() != Step::row) return db.error("read the schema version");
  const std::int64_t current = version.integer(0);
  if (current == 0) {
    // A new store has no tables yet; a database with tables but no version is someone else's.
    Query tables(db, "SELECT group_concat(name, ', ') FROM sqlite_master WHERE type = 'table'");
    if (tables.step() == Step::row && !tables.text(0).empty()) {
      return Error{Code::invalid_argument,
                   "The file is an SQLite database but not a touchpass "
                   "store (it has the tables " +
                       tables.text(0) + "); refusing to use it."};
    }
  }
  if (current > kSqliteSchemaVersionMigrated) {
    return Error{Code::invalid_argument, "The store has schema version " + std::to_string(current) +
                                             ", newer than this touchpass understands (" +
                                             std::to_string(kSqliteSchemaVersionMigrated) +
                                             "); upgrade touchpass."};
  }
  for (std::int64_t v = current; v < kSqliteSchemaVersionMigrated; ++v) {
    Transaction tx(db, Durability::durable);
    if (!tx.begun().ok()) return tx.begun();
    const std::string sql = std::string(kMigrations[static_cast<std::size_t>(v)]) +
                            "PRAGMA user_version=" + std::to_string(v + 1) + ";";
    if (Status s = db.exec(sql.c_str(), "migrate the schema"); !s.ok()) return s;
    if (Status s = tx.commit(); !s.ok()) return s;
  }
  return {};
}

}  // namespace touchpass::store::sql
