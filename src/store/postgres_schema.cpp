#include "store/postgres_schema.h"

#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace touchpass::store::sql {

namespace {

using Statements = std::vector<std::string_view>;

// kMigrations[i] brings the schema from version i to i + 1, a statement at a time. Version 1
// is the SQLite store's version 9.
const std::vector<Statements> kMigrations = {
    {
        R"sql(CREATE TABLE touchpass_schema (
  version BIGINT NOT NULL
))sql",
        R"sql(CREATE TABLE tokens (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  "user" TEXT NOT NULL,
  label TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('fido2', 'yubikey')),
  credential BYTEA NOT NULL,
  rp_id TEXT NOT NULL,
  algorithm BIGINT NOT NULL,
  public_key BYTEA NOT NULL,
  uv TEXT NOT NULL CHECK (uv IN ('pin', 'presence')),
  sign_count BIGINT NOT NULL,
  aaguid BYTEA NOT NULL,
  attestation_format TEXT NOT NULL,
  attestation_x5c BYTEA NOT NULL,
  device TEXT NOT NULL,
  is_virtual BIGINT NOT NULL,
  created BIGINT NOT NULL,
  revoked BIGINT,
  rolling_challenge BYTEA NOT NULL DEFAULT '\x',
  rolling_hash BYTEA NOT NULL DEFAULT '\x',
  mac BYTEA NOT NULL DEFAULT '\x'
))sql",
        R"sql(CREATE UNIQUE INDEX tokens_active_label ON tokens ("user", label)
  WHERE revoked IS NULL)sql",
        R"sql(CREATE TABLE grants (
  grant_id BYTEA PRIMARY KEY CHECK (length(grant_id) = 16),
  "user" TEXT NOT NULL,
  name TEXT NOT NULL,
  scopes TEXT NOT NULL,
  created BIGINT NOT NULL,
  expires BIGINT NOT NULL,
  token_id BIGINT NOT NULL REFERENCES tokens (id),
  kind TEXT NOT NULL,
  credential BYTEA NOT NULL,
  verifier BYTEA NOT NULL UNIQUE CHECK (length(verifier) = 32),
  proof_auth_data BYTEA NOT NULL,
  proof_signature BYTEA NOT NULL,
  revoked BIGINT,
  last_used BIGINT,
  last_service TEXT NOT NULL DEFAULT '',
  last_remote TEXT NOT NULL DEFAULT '',
  mac BYTEA NOT NULL DEFAULT '\x',
  version BIGINT NOT NULL DEFAULT 1 CHECK (version IN (1, 2)),
  rp_id TEXT NOT NULL DEFAULT '',
  proof_client_data BYTEA
))sql",
        R"sql(CREATE UNIQUE INDEX grants_active_name ON grants ("user", name)
  WHERE revoked IS NULL)sql",
        "CREATE INDEX grants_token ON grants (token_id)",
        R"sql(CREATE TABLE audit (
  seq BIGINT PRIMARY KEY,
  time BIGINT NOT NULL,
  actor_uid BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  "user" TEXT NOT NULL,
  object TEXT NOT NULL,
  result TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash BYTEA NOT NULL,
  hash BYTEA NOT NULL
))sql",
        R"sql(CREATE INDEX audit_user ON audit ("user"))sql",
        R"sql(CREATE FUNCTION touchpass_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS
$body$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $body$)sql",
        R"sql(CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
  FOR EACH ROW EXECUTE FUNCTION touchpass_audit_append_only())sql",
        R"sql(CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
  FOR EACH STATEMENT EXECUTE FUNCTION touchpass_audit_append_only())sql",
        R"sql(CREATE TABLE throttle (
  key TEXT PRIMARY KEY,
  failures BIGINT NOT NULL,
  last_failure BIGINT NOT NULL,
  locked_until BIGINT NOT NULL,
  pending BIGINT NOT NULL DEFAULT 0,
  pending_since BIGINT NOT NULL DEFAULT 0
))sql",
        R"sql(CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value BYTEA NOT NULL
))sql",
        R"sql(CREATE TABLE invitations (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  "user" TEXT NOT NULL,
  code_hash BYTEA NOT NULL UNIQUE CHECK (length(code_hash) = 32),
  created BIGINT NOT NULL,
  expires BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  used BIGINT,
  mac BYTEA NOT NULL
))sql",
        R"sql(CREATE INDEX invitations_user ON invitations ("user"))sql",
        "INSERT INTO touchpass_schema (version) VALUES (0)",
    },
    // v2 (the SQLite store's v10): the networks a grant may be used from, joined by ",", in
    // its MAC when not empty; every older grant may be used from anywhere.
    {
        "ALTER TABLE grants ADD COLUMN networks TEXT NOT NULL DEFAULT ''",
    },
};

// The schema version (0: none yet), or invalid_argument when the database holds tables that
// are not a touchpass store's.
Result<std::int64_t> schema_version(Connection& db) {
  Query has(db,
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_name = 'touchpass_schema'");
  if (has.step() != Step::row) return db.error("read the schema version");
  if (has.integer(0) == 0) {
    Query tables(db,
                 "SELECT coalesce(string_agg(table_name::text, ', ' ORDER BY table_name), '') "
                 "FROM information_schema.tables WHERE table_schema = current_schema()");
    if (tables.step() != Step::row) return db.error("look into the database");
    if (!tables.text(0).empty()) {
      return Error{Code::invalid_argument,
                   "The database is not a touchpass store (it has the tables " + tables.text(0) +
                       "); refusing to use it."};
    }
    return std::int64_t{0};
  }
  Query version(db, "SELECT version FROM touchpass_schema");
  if (version.step() != Step::row) return db.error("read the schema version");
  return version.integer(0);
}

}  // namespace

Status migrate_postgres(Connection& db) {
  if (kMigrations.size() != static_cast<std::size_t>(kPostgresSchemaVersion)) {
    return Error{Code::internal, "The store's migrations do not reach its schema version."};
  }
  for (;;) {
    // Read outside a transaction first, so that a host with a current schema takes no lock.
    auto current = schema_version(db);
    if (!current.ok()) return current.error();
    if (*current > kPostgresSchemaVersion) {
      return Error{Code::invalid_argument,
                   "The store has schema version " + std::to_string(*current) +
                       ", newer than this touchpass understands (" +
                       std::to_string(kPostgresSchemaVersion) + "); upgrade touchpass."};
    }
    if (*current == kPostgresSchemaVersion) return {};
    Transaction tx(db, Durability::durable);
    if (!tx.begun().ok()) return tx.begun();
    // Another host may have migrated while this one waited for the lock.
    auto locked = schema_version(db);
    if (!locked.ok()) return locked.error();
    if (*locked != *current) continue;
    for (const std::string_view statement : kMigrations[static_cast<std::size_t>(*current)]) {
      if (Status s = Query(db, statement).run("migrate the schema"); !s.ok()) return s;
    }
    Query set(db, "UPDATE touchpass_schema SET version = ?");
    set.bind(1, *current + 1);
    if (Status s = set.run("record the schema version"); !s.ok()) return s;
    if (Status s = tx.commit(); !s.ok()) return s;
  }
}

}  // namespace touchpass::store::sql
