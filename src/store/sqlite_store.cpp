#include "store/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <iterator>
#include <string_view>
#include <thread>
#include <utility>

#include "store/audit_chain.h"

namespace touchpass::store {

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
};
static_assert(std::size(kMigrations) == static_cast<std::size_t>(SqliteStore::kSchemaVersion));

Error db_error(sqlite3* db, std::string_view what) {
  return Error{Code::io_error, "The store failed to " + std::string(what) + ": " +
                                   (db ? sqlite3_errmsg(db) : "out of memory") + "."};
}

// A prepared statement; finalized on destruction. Columns and parameters are 0- and 1-based
// as in SQLite.
class Stmt {
 public:
  Stmt(sqlite3* db, std::string_view sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  }
  // Borrows a statement prepared elsewhere; it is reset (not finalized) on destruction.
  Stmt(sqlite3* db, sqlite3_stmt* prepared) : db_(db), stmt_(prepared), borrowed_(true) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() {
    if (borrowed_) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    } else {
      sqlite3_finalize(stmt_);
    }
  }

  Stmt& bind(int i, std::int64_t v) { return check(sqlite3_bind_int64(stmt_, i, v)); }
  Stmt& bind(int i, std::string_view v) {
    return check(
        sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  Stmt& bind(int i, const Bytes& v) {
    // A zero-length blob must still be a blob, not NULL.
    static const std::uint8_t kEmpty = 0;
    return check(sqlite3_bind_blob(stmt_, i, v.empty() ? &kEmpty : v.data(),
                                   static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  Stmt& bind(int i, const std::optional<std::int64_t>& v) {
    return v ? bind(i, *v) : check(sqlite3_bind_null(stmt_, i));
  }

  // SQLITE_ROW, SQLITE_DONE, or an error code.
  int step() {
    if (rc_ != SQLITE_OK) return rc_;
    return sqlite3_step(stmt_);
  }
  // Runs a statement that returns no rows.
  Status run(std::string_view what) {
    const int rc = step();
    if (rc == SQLITE_DONE) return {};
    return db_error(db_, what);
  }
  int last_rc() const { return rc_; }
  // Makes the statement ready to run again with new bindings.
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::optional<std::int64_t> optional_integer(int col) const {
    if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
    return integer(col);
  }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  Bytes blob(int col) const {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, col));
    const auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col));
    return p ? Bytes(p, p + n) : Bytes();
  }

 private:
  Stmt& check(int rc) {
    if (rc_ == SQLITE_OK && rc != SQLITE_OK) rc_ = rc;
    return *this;
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  bool borrowed_ = false;
  int rc_ = SQLITE_OK;
};

Status exec(sqlite3* db, const char* sql, std::string_view what) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK) return {};
  return db_error(db, what);
}

// BEGIN IMMEDIATE … COMMIT; rolls back unless commit() succeeded.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {
    begun_ = exec(db, "BEGIN IMMEDIATE", "begin a transaction");
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (begun_.ok() && !committed_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  const Status& begun() const { return begun_; }
  Status commit() {
    Status s = exec(db_, "COMMIT", "commit a transaction");
    committed_ = s.ok();
    return s;
  }

 private:
  sqlite3* db_;
  Status begun_;
  bool committed_ = false;
};

std::string join_scopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes) {
    if (!out.empty()) out += ',';
    out += s;
  }
  return out;
}

std::vector<std::string> split_scopes(const std::string& joined) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < joined.size()) {
    std::size_t end = joined.find(',', start);
    if (end == std::string::npos) end = joined.size();
    out.push_back(joined.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

constexpr std::string_view kTokenColumns =
    "id, user, label, kind, credential, rp_id, algorithm, public_key, uv, sign_count, aaguid, "
    "attestation_format, attestation_x5c, device, is_virtual, created, revoked, rolling_challenge, "
    "rolling_hash";

TokenRecord read_token(const Stmt& s) {
  TokenRecord t;
  t.id = s.integer(0);
  t.user = s.text(1);
  t.label = s.text(2);
  t.kind = s.text(3);
  t.credential = s.blob(4);
  t.rp_id = s.text(5);
  t.algorithm = static_cast<int>(s.integer(6));
  t.public_key = s.blob(7);
  t.uv = s.text(8);
  t.sign_count = static_cast<std::uint32_t>(s.integer(9));
  t.aaguid = s.blob(10);
  t.attestation_format = s.text(11);
  t.attestation_x5c = s.blob(12);
  t.device = s.text(13);
  t.is_virtual = s.integer(14) != 0;
  t.created = s.integer(15);
  t.revoked = s.optional_integer(16);
  t.rolling_challenge = s.blob(17);
  t.rolling_hash = s.blob(18);
  return t;
}

constexpr std::string_view kGrantColumns =
    "grant_id, user, name, scopes, created, expires, token_id, kind, credential, verifier, "
    "proof_auth_data, proof_signature, revoked, last_used, last_service, last_remote, "
    "(SELECT revoked IS NOT NULL FROM tokens WHERE tokens.id = grants.token_id)";

GrantRecord read_grant(const Stmt& s) {
  GrantRecord g;
  g.grant_id = s.blob(0);
  g.user = s.text(1);
  g.name = s.text(2);
  g.scopes = split_scopes(s.text(3));
  g.created = s.integer(4);
  g.expires = s.integer(5);
  g.token_id = s.integer(6);
  g.kind = s.text(7);
  g.credential = s.blob(8);
  g.verifier = s.blob(9);
  g.proof_auth_data = s.blob(10);
  g.proof_signature = s.blob(11);
  g.revoked = s.optional_integer(12);
  g.last_used = s.optional_integer(13);
  g.last_service = s.text(14);
  g.last_remote = s.text(15);
  g.token_revoked = s.integer(16) != 0;
  return g;
}

AuditEntry read_audit_entry(const Stmt& q) {
  AuditEntry e;
  e.seq = q.integer(0);
  e.event.time = q.integer(1);
  e.event.actor_uid = q.integer(2);
  e.event.actor = q.text(3);
  e.event.action = q.text(4);
  e.event.user = q.text(5);
  e.event.object = q.text(6);
  e.event.result = q.text(7);
  e.event.detail = q.text(8);
  e.prev_hash = q.blob(9);
  e.hash = q.blob(10);
  return e;
}

// Steps `q` through all its rows, reading each with `read`.
template <class Read>
auto collect(sqlite3* db, Stmt& q, Read read, std::string_view what)
    -> Result<std::vector<decltype(read(q))>> {
  std::vector<decltype(read(q))> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) out.push_back(read(q));
  if (rc != SQLITE_DONE) return db_error(db, std::string(what));
  return out;
}

// Runs `body` and turns any exception (allocation failure, a broken OpenSSL) into an error, so
// nothing throws out of the store.
template <class F>
auto guarded(F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const std::exception& e) {
    return Error{Code::internal, std::string("The store failed unexpectedly: ") + e.what()};
  }
}

}  // namespace

SqliteStore::SqliteStore(sqlite3* db) : db_(db) {}

SqliteStore::~SqliteStore() {
  readers_.clear();
  sqlite3_close_v2(db_);
}

SqliteStore::Reader::~Reader() {
  // The cached statement first: close_v2 would otherwise keep the connection as a zombie.
  sqlite3_finalize(by_verifier);
  sqlite3_close_v2(db);
}

Status SqliteStore::open_readers(const std::filesystem::path& path, int count) {
  // Only what verification needs: no proofs or usage to copy on every login.
  const std::string sql =
      "SELECT grant_id, user, name, scopes, expires, revoked, "
      "(SELECT revoked IS NOT NULL FROM tokens WHERE tokens.id = grants.token_id) "
      "FROM grants WHERE verifier = ?";
  for (int i = 0; i < count; ++i) {
    auto reader = std::make_unique<Reader>();
    const int rc = sqlite3_open_v2(path.c_str(), &reader->db,
                                   SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) return db_error(reader->db, "open a read connection");
    sqlite3_busy_timeout(reader->db, 5000);
    if (sqlite3_prepare_v3(reader->db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT,
                           &reader->by_verifier, nullptr) != SQLITE_OK) {
      return db_error(reader->db, "prepare the verifier look-up");
    }
    readers_.push_back(std::move(reader));
  }
  return {};
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::filesystem::path& path) {
  // An existing file of 0 bytes is a store that was lost (truncated, or never written), not a
  // new one: taking it for an empty store would silently drop every key and password.
  struct stat existing {};
  if (::stat(path.c_str(), &existing) == 0 && existing.st_size == 0) {
    return Error{Code::invalid_argument,
                 "The store " + path.string() +
                     " is an empty file (0 bytes), not a touchpass store. Restore it from your "
                     "backup, or remove it to start a new store."};
  }
  // Create the file ourselves so that it is never readable by others, not even for a moment.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return Error{Code::io_error,
                 "Cannot open the store " + path.string() + ": " + std::strerror(errno) + "."};
  }
  ::close(fd);

  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<SqliteStore> store(new SqliteStore(db));
  if (rc != SQLITE_OK) return db_error(db, "open " + path.string());
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, 5000);
  // journal_size_limit: the WAL file is cut back after a checkpoint instead of keeping its
  // largest size, so a burst of writes does not leave the store bigger for good.
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON",
        "PRAGMA secure_delete=ON", "PRAGMA journal_size_limit=1048576"}) {
    // journal_mode returns a row; sqlite3_exec ignores it.
    if (Status s = exec(db, pragma, "configure the database"); !s.ok()) return s;
  }
  if (Status s = store->migrate(); !s.ok()) {
    if (s.code() != Code::invalid_argument) return s;
    return Error{s.code(), "The store " + path.string() + ": " + std::string(s.message())};
  }
  const unsigned cores = std::max(2u, std::thread::hardware_concurrency());
  if (Status s = store->open_readers(path, static_cast<int>(std::min(cores, 8u))); !s.ok()) {
    return s;
  }
  return store;
}

Status SqliteStore::migrate() {
  Stmt version(db_, "PRAGMA user_version");
  if (version.step() != SQLITE_ROW) return db_error(db_, "read the schema version");
  const std::int64_t current = version.integer(0);
  if (current == 0) {
    // A new store has no tables yet; a database with tables but no version is someone else's.
    Stmt tables(db_, "SELECT group_concat(name, ', ') FROM sqlite_master WHERE type = 'table'");
    if (tables.step() == SQLITE_ROW && !tables.text(0).empty()) {
      return Error{Code::invalid_argument,
                   "The file is an SQLite database but not a touchpass "
                   "store (it has the tables " +
                       tables.text(0) + "); refusing to use it."};
    }
  }
  if (current > kSchemaVersion) {
    return Error{Code::invalid_argument, "The store has schema version " + std::to_string(current) +
                                             ", newer than this touchpass understands (" +
                                             std::to_string(kSchemaVersion) +
                                             "); upgrade touchpass."};
  }
  for (std::int64_t v = current; v < kSchemaVersion; ++v) {
    Transaction tx(db_);
    if (!tx.begun().ok()) return tx.begun();
    const std::string sql = std::string(kMigrations[static_cast<std::size_t>(v)]) +
                            "PRAGMA user_version=" + std::to_string(v + 1) + ";";
    if (Status s = exec(db_, sql.c_str(), "migrate the schema"); !s.ok()) return s;
    if (Status s = tx.commit(); !s.ok()) return s;
  }
  return {};
}

Status SqliteStore::append_audit_locked(const AuditEvent& audit) {
  Stmt last(db_, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
  std::int64_t seq = 1;
  Bytes prev(kAuditHashSize, 0);
  const int rc = last.step();
  if (rc == SQLITE_ROW) {
    seq = last.integer(0) + 1;
    prev = last.blob(1);
  } else if (rc != SQLITE_DONE) {
    return db_error(db_, "read the audit log");
  }
  const Bytes hash = audit_entry_hash(prev, seq, audit);
  Stmt ins(db_,
           "INSERT INTO audit (seq, time, actor_uid, actor, action, user, object, result, "
           "detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)");
  ins.bind(1, seq)
      .bind(2, audit.time)
      .bind(3, audit.actor_uid)
      .bind(4, audit.actor)
      .bind(5, audit.action)
      .bind(6, audit.user)
      .bind(7, audit.object)
      .bind(8, audit.result)
      .bind(9, audit.detail)
      .bind(10, prev)
      .bind(11, hash);
  return ins.run("append to the audit log");
}

template <class F>
auto SqliteStore::audited_write(const AuditEvent& audit, F&& body) -> decltype(body()) {
  auto outcome = guarded([&]() -> decltype(body()) {
    std::lock_guard lock(mu_);
    Transaction tx(db_);
    if (!tx.begun().ok()) return tx.begun().error();
    auto result = body();
    if (!result.ok()) return result;
    if (Status s = append_audit_locked(audit); !s.ok()) return s.error();
    if (Status s = tx.commit(); !s.ok()) return s.error();
    return result;
  });
  forget_verifiers();  // after the commit: a grant or token may have changed
  return outcome;
}

void SqliteStore::forget_verifiers() {
  std::lock_guard lock(cache_.mu);
  ++cache_.generation;
  cache_.grants.clear();
}

Status SqliteStore::append_audit(const AuditEvent& audit) {
  return audited_write(audit, [&]() -> Status { return Status(); });
}

Result<std::int64_t> SqliteStore::add_token(const TokenRecord& t, const AuditEvent& audit) {
  return audited_write(audit, [&]() -> Result<std::int64_t> {
    Stmt ins(db_,
             "INSERT INTO tokens (user, label, kind, credential, rp_id, algorithm, "
             "public_key, uv, sign_count, aaguid, attestation_format, attestation_x5c, "
             "device, is_virtual, created, rolling_challenge, rolling_hash) "
             "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    ins.bind(1, t.user)
        .bind(2, t.label)
        .bind(3, t.kind)
        .bind(4, t.credential)
        .bind(5, t.rp_id)
        .bind(6, std::int64_t{t.algorithm})
        .bind(7, t.public_key)
        .bind(8, t.uv)
        .bind(9, std::int64_t{t.sign_count})
        .bind(10, t.aaguid)
        .bind(11, t.attestation_format)
        .bind(12, t.attestation_x5c)
        .bind(13, t.device)
        .bind(14, std::int64_t{t.is_virtual ? 1 : 0})
        .bind(15, t.created)
        .bind(16, t.rolling_challenge)
        .bind(17, t.rolling_hash);
    const int rc = ins.step();
    if (rc == SQLITE_CONSTRAINT_UNIQUE) {
      return Error{Code::invalid_argument, "A token labelled \"" + t.label +
                                               "\" is already enrolled; choose another "
                                               "label."};
    }
    if (rc != SQLITE_DONE) return db_error(db_, "store the token");
    const std::int64_t id = sqlite3_last_insert_rowid(db_);
    return id;
  });
}

Result<std::vector<TokenRecord>> SqliteStore::list_tokens(const std::string& user,
                                                          bool include_revoked) {
  return guarded([&]() -> Result<std::vector<TokenRecord>> {
    std::lock_guard lock(mu_);
    Stmt q(db_, "SELECT " + std::string(kTokenColumns) +
                    " FROM tokens WHERE (?1 = '' OR user = ?1) AND (?2 OR revoked IS NULL)"
                    " ORDER BY user, id");
    q.bind(1, user).bind(2, std::int64_t{include_revoked ? 1 : 0});
    return collect(db_, q, read_token, "list tokens");
  });
}

Result<TokenRecord> SqliteStore::get_token(std::int64_t id) {
  return guarded([&]() -> Result<TokenRecord> {
    std::lock_guard lock(mu_);
    Stmt q(db_, "SELECT " + std::string(kTokenColumns) + " FROM tokens WHERE id = ?");
    q.bind(1, id);
    const int rc = q.step();
    if (rc == SQLITE_ROW) return read_token(q);
    if (rc == SQLITE_DONE) return Error{Code::not_found, "No such token."};
    return db_error(db_, "read a token");
  });
}

Status SqliteStore::revoke_token(std::int64_t id, UnixTime when, const AuditEvent& audit) {
  return audited_write(audit, [&]() -> Status {
    Stmt tok(db_, "UPDATE tokens SET revoked = ? WHERE id = ? AND revoked IS NULL");
    tok.bind(1, when).bind(2, id);
    if (Status s = tok.run("revoke the token"); !s.ok()) return s;
    if (sqlite3_changes(db_) == 0) return Error{Code::not_found, "No such active token."};
    Stmt grants(db_, "UPDATE grants SET revoked = ? WHERE token_id = ? AND revoked IS NULL");
    grants.bind(1, when).bind(2, id);
    if (Status s = grants.run("revoke the token's grants"); !s.ok()) return s;
    return Status();
  });
}

Status SqliteStore::write_token_state_locked(std::int64_t token_id, const TokenState& state) {
  // Empty rolling values keep the stored ones (FIDO2 tokens have none).
  Stmt tok(db_,
           "UPDATE tokens SET sign_count = ?1, "
           "rolling_challenge = CASE WHEN length(?2) > 0 THEN ?2 ELSE rolling_challenge END, "
           "rolling_hash = CASE WHEN length(?3) > 0 THEN ?3 ELSE rolling_hash END "
           "WHERE id = ?4 AND revoked IS NULL");
  tok.bind(1, std::int64_t{state.sign_count})
      .bind(2, state.rolling_challenge)
      .bind(3, state.rolling_hash)
      .bind(4, token_id);
  if (Status s = tok.run("record the token's state"); !s.ok()) return s;
  if (sqlite3_changes(db_) == 0) {
    return Error{Code::not_found, "The token is no longer enrolled."};
  }
  return {};
}

Status SqliteStore::add_grant(const GrantRecord& g, const TokenState& token_state,
                              const AuditEvent& audit) {
  return audited_write(audit, [&]() -> Status {
    if (Status s = write_token_state_locked(g.token_id, token_state); !s.ok()) return s;
    Stmt ins(db_,
             "INSERT INTO grants (grant_id, user, name, scopes, created, expires, "
             "token_id, kind, credential, verifier, proof_auth_data, proof_signature) "
             "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
    ins.bind(1, g.grant_id)
        .bind(2, g.user)
        .bind(3, g.name)
        .bind(4, join_scopes(g.scopes))
        .bind(5, g.created)
        .bind(6, g.expires)
        .bind(7, g.token_id)
        .bind(8, g.kind)
        .bind(9, g.credential)
        .bind(10, g.verifier)
        .bind(11, g.proof_auth_data)
        .bind(12, g.proof_signature);
    const int rc = ins.step();
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
      return Error{Code::invalid_argument, "An app password named \"" + g.name +
                                               "\" already exists; choose another name or "
                                               "revoke the old one first."};
    }
    if (rc != SQLITE_DONE) return db_error(db_, "store the grant");
    return Status();
  });
}

Result<GrantRecord> SqliteStore::find_grant(const std::string& user, const std::string& name) {
  return guarded([&]() -> Result<GrantRecord> {
    std::lock_guard lock(mu_);
    Stmt q(db_, "SELECT " + std::string(kGrantColumns) +
                    " FROM grants WHERE user = ? AND name = ? AND revoked IS NULL");
    q.bind(1, user).bind(2, name);
    const int rc = q.step();
    if (rc == SQLITE_ROW) return read_grant(q);
    if (rc == SQLITE_DONE) {
      return Error{Code::not_found, "There is no app password named \"" + name + "\"."};
    }
    return db_error(db_, "read a grant");
  });
}

Result<std::optional<GrantRecord>> SqliteStore::find_grant_by_verifier(const Bytes& verifier) {
  const std::string key(verifier.begin(), verifier.end());
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(cache_.mu);
    const auto it = cache_.grants.find(key);
    if (it != cache_.grants.end()) return std::optional<GrantRecord>(it->second);
    generation = cache_.generation;
  }
  auto found = look_up_verifier(verifier);
  if (found.ok() && found->has_value()) {
    std::lock_guard lock(cache_.mu);
    if (cache_.generation == generation) {  // no write since the look-up began
      if (cache_.grants.size() >= kVerifierCacheSize) cache_.grants.clear();
      cache_.grants.emplace(key, **found);
    }
  }
  return found;
}

Result<std::optional<GrantRecord>> SqliteStore::look_up_verifier(const Bytes& verifier) {
  return guarded([&]() -> Result<std::optional<GrantRecord>> {
    // A free reader if there is one, else wait for the next in turn.
    const std::size_t n = readers_.size();
    const std::size_t first = next_reader_.fetch_add(1, std::memory_order_relaxed) % n;
    Reader* reader = nullptr;
    std::unique_lock<std::mutex> lock;
    for (std::size_t i = 0; i < n && reader == nullptr; ++i) {
      Reader* candidate = readers_[(first + i) % n].get();
      std::unique_lock<std::mutex> attempt(candidate->mu, std::try_to_lock);
      if (attempt.owns_lock()) {
        reader = candidate;
        lock = std::move(attempt);
      }
    }
    if (reader == nullptr) {
      reader = readers_[first].get();
      lock = std::unique_lock<std::mutex>(reader->mu);
    }
    Stmt q(reader->db, reader->by_verifier);
    q.bind(1, verifier);
    const int rc = q.step();
    if (rc == SQLITE_ROW) {
      GrantRecord g;
      g.grant_id = q.blob(0);
      g.user = q.text(1);
      g.name = q.text(2);
      g.scopes = split_scopes(q.text(3));
      g.expires = q.integer(4);
      g.revoked = q.optional_integer(5);
      g.token_revoked = q.integer(6) != 0;
      g.verifier = verifier;
      return std::optional<GrantRecord>(std::move(g));
    }
    if (rc == SQLITE_DONE) return std::optional<GrantRecord>();
    return db_error(reader->db, "look up a verifier");
  });
}

Result<std::vector<GrantRecord>> SqliteStore::list_grants(const std::string& user,
                                                          bool include_revoked) {
  return guarded([&]() -> Result<std::vector<GrantRecord>> {
    std::lock_guard lock(mu_);
    Stmt q(db_, "SELECT " + std::string(kGrantColumns) +
                    " FROM grants WHERE (?1 = '' OR user = ?1) AND (?2 OR revoked IS NULL)"
                    " ORDER BY user, created, name");
    q.bind(1, user).bind(2, std::int64_t{include_revoked ? 1 : 0});
    return collect(db_, q, read_grant, "list grants");
  });
}

Status SqliteStore::update_token_state(std::int64_t token_id, const TokenState& state,
                                       const AuditEvent& audit) {
  return audited_write(audit,
                       [&]() -> Status { return write_token_state_locked(token_id, state); });
}

Status SqliteStore::revoke_grant(const std::string& user, const std::string& name, UnixTime when,
                                 const AuditEvent& audit) {
  return audited_write(audit, [&]() -> Status {
    Stmt q(db_, "UPDATE grants SET revoked = ? WHERE user = ? AND name = ? AND revoked IS NULL");
    q.bind(1, when).bind(2, user).bind(3, name);
    if (Status s = q.run("revoke the grant"); !s.ok()) return s;
    if (sqlite3_changes(db_) == 0) {
      return Error{Code::not_found, "There is no app password named \"" + name + "\"."};
    }
    return Status();
  });
}

Result<int> SqliteStore::revoke_all_grants(const std::string& user, UnixTime when,
                                           const AuditEvent& audit) {
  return audited_write(audit, [&]() -> Result<int> {
    Stmt q(db_, "UPDATE grants SET revoked = ? WHERE user = ? AND revoked IS NULL");
    q.bind(1, when).bind(2, user);
    if (Status s = q.run("revoke the grants"); !s.ok()) return s;
    const int count = sqlite3_changes(db_);
    return count;
  });
}

Status SqliteStore::rename_grant(const std::string& user, const std::string& old_name,
                                 const std::string& new_name, const AuditEvent& audit) {
  return audited_write(audit, [&]() -> Status {
    // The grant's name is part of its encoding (and so of its clientDataHash), not of the
    // password derivation (salt and HKDF use only the grant id), so renaming keeps the password.
    Stmt q(db_, "UPDATE grants SET name = ? WHERE user = ? AND name = ? AND revoked IS NULL");
    q.bind(1, new_name).bind(2, user).bind(3, old_name);
    const int rc = q.step();
    if (rc == SQLITE_CONSTRAINT_UNIQUE) {
      return Error{Code::invalid_argument,
                   "An app password named \"" + new_name + "\" already exists."};
    }
    if (rc != SQLITE_DONE) return db_error(db_, "rename the grant");
    if (sqlite3_changes(db_) == 0) {
      return Error{Code::not_found, "There is no app password named \"" + old_name + "\"."};
    }
    return Status();
  });
}

Result<std::vector<AuditEntry>> SqliteStore::list_audit(const std::string& user, int limit) {
  return guarded([&]() -> Result<std::vector<AuditEntry>> {
    std::lock_guard lock(mu_);
    Stmt q(db_,
           "SELECT * FROM (SELECT seq, time, actor_uid, actor, action, user, object, result, "
           "detail, prev_hash, hash FROM audit WHERE (?1 = '' OR user = ?1 OR actor = ?1) "
           "ORDER BY seq DESC LIMIT ?2) ORDER BY seq");
    q.bind(1, user).bind(2, std::int64_t{limit > 0 ? limit : -1});
    return collect(db_, q, read_audit_entry, "read the audit log");
  });
}

Status SqliteStore::verify_audit() {
  Result<std::vector<AuditEntry>> entries = list_audit("", 0);
  if (!entries.ok()) return entries.status();
  return guarded([&]() -> Status {
    Bytes prev(kAuditHashSize, 0);
    std::int64_t expected_seq = 1;
    for (const AuditEntry& e : *entries) {
      const std::string where = "Audit entry " + std::to_string(e.seq);
      if (e.seq != expected_seq) {
        return Error{Code::verification_failed, "The audit log has a gap: entry " +
                                                    std::to_string(expected_seq) + " is missing."};
      }
      if (e.prev_hash != prev) {
        return Error{Code::verification_failed, where + " does not follow the entry before it."};
      }
      if (audit_entry_hash(prev, e.seq, e.event) != e.hash) {
        return Error{Code::verification_failed, where + " has been altered."};
      }
      prev = e.hash;
      ++expected_seq;
    }
    return Status();
  });
}

Status SqliteStore::write_verification_batch(const VerificationBatch& batch) {
  if (batch.usages.empty() && batch.throttles.empty() && batch.audits.empty()) return {};
  return guarded([&]() -> Status {
    std::lock_guard lock(mu_);
    // What verification learns may lose its last seconds in a power cut; issuing and revoking
    // may not.
    if (Status s = exec(db_, "PRAGMA synchronous=NORMAL", "configure the database"); !s.ok()) {
      return s;
    }
    Status result = [&]() -> Status {
      Transaction tx(db_);
      if (!tx.begun().ok()) return tx.begun();
      Stmt used(db_,
                "UPDATE grants SET last_used = ?, last_service = ?, last_remote = ? "
                "WHERE grant_id = ? AND (last_used IS NULL OR last_used <= ?)");
      for (const Usage& u : batch.usages) {
        used.bind(1, u.time)
            .bind(2, u.service)
            .bind(3, u.remote)
            .bind(4, u.grant_id)
            .bind(5, u.time);
        if (Status s = used.run("record usage"); !s.ok()) return s;
        used.reset();
      }
      Stmt keep(db_,
                "INSERT INTO throttle (key, failures, last_failure, locked_until) VALUES (?,?,?,?) "
                "ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, "
                "last_failure = excluded.last_failure, locked_until = excluded.locked_until");
      Stmt drop(db_, "DELETE FROM throttle WHERE key = ?");
      for (const Throttle& t : batch.throttles) {
        if (t.locked_until > 0) {
          keep.bind(1, t.key)
              .bind(2, std::int64_t{t.failures})
              .bind(3, t.last_failure)
              .bind(4, t.locked_until);
          if (Status s = keep.run("record a lock"); !s.ok()) return s;
          keep.reset();
        } else {
          drop.bind(1, t.key);
          if (Status s = drop.run("remove a lock"); !s.ok()) return s;
          drop.reset();
        }
      }
      Stmt ended(db_, "DELETE FROM throttle WHERE locked_until <= ?");
      ended.bind(1, batch.now);
      if (Status s = ended.run("remove ended locks"); !s.ok()) return s;
      for (const AuditEvent& e : batch.audits) {
        if (Status s = append_audit_locked(e); !s.ok()) return s;
      }
      return tx.commit();
    }();
    const Status restored = exec(db_, "PRAGMA synchronous=FULL", "configure the database");
    return result.ok() ? restored : result;
  });
}

Result<std::vector<Throttle>> SqliteStore::list_throttles() {
  return guarded([&]() -> Result<std::vector<Throttle>> {
    std::lock_guard lock(mu_);
    Stmt q(db_, "SELECT key, failures, last_failure, locked_until FROM throttle ORDER BY key");
    return collect(
        db_, q,
        [](const Stmt& row) {
          return Throttle{row.text(0), static_cast<int>(row.integer(1)), row.integer(2),
                          row.integer(3)};
        },
        "read the throttle state");
  });
}

Result<std::optional<Bytes>> SqliteStore::pepper_fingerprint() {
  return guarded([&]() -> Result<std::optional<Bytes>> {
    std::lock_guard lock(mu_);
    Stmt q(db_, "SELECT value FROM meta WHERE key = 'pepper_fingerprint'");
    const int rc = q.step();
    if (rc == SQLITE_ROW) return std::optional<Bytes>(q.blob(0));
    if (rc == SQLITE_DONE) return std::optional<Bytes>();
    return db_error(db_, "read the pepper's fingerprint");
  });
}

Status SqliteStore::set_pepper_fingerprint(const Bytes& fingerprint) {
  return guarded([&]() -> Status {
    std::lock_guard lock(mu_);
    Stmt q(db_, "INSERT OR IGNORE INTO meta (key, value) VALUES ('pepper_fingerprint', ?)");
    q.bind(1, fingerprint);
    return q.run("record the pepper's fingerprint");
  });
}

Result<bool> SqliteStore::holds_data() {
  return guarded([&]() -> Result<bool> {
    std::lock_guard lock(mu_);
    Stmt q(db_,
           "SELECT EXISTS (SELECT 1 FROM tokens) OR EXISTS (SELECT 1 FROM grants) OR "
           "EXISTS (SELECT 1 FROM audit)");
    if (q.step() != SQLITE_ROW) return db_error(db_, "look into the store");
    return q.integer(0) != 0;
  });
}

}  // namespace touchpass::store
