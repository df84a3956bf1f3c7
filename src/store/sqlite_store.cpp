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

#include "core/fd.h"
#include "core/grant.h"
#include "store/audit_chain.h"
#include "store/integrity.h"
#include "store/sqlite_audited_write.h"
#include "store/sqlite_rows.h"
#include "store/sqlite_schema.h"
#include "store/sqlite_support.h"

namespace touchpass::store {

using namespace sqlite;

static_assert(SqliteStore::kSchemaVersion == sqlite::kSchemaVersion);

namespace {

std::string tampered_grant(const GrantRecord& g) {
  return "The record of app password \"" + g.name + "\" of " + g.user +
         " was changed outside touchpassd (its MAC does not match); run \"touchpass log "
         "--verify\" and restore the store from a backup.";
}

std::string tampered_token(const TokenRecord& t) {
  return "The record of security key \"" + t.label + "\" of " + t.user +
         " was changed outside touchpassd (its MAC does not match); run \"touchpass log "
         "--verify\" and restore the store from a backup.";
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
      "SELECT grant_id, user, name, scopes, created, expires, token_id, kind, credential, "
      "version, rp_id, revoked, "
      "(SELECT revoked IS NOT NULL FROM tokens WHERE tokens.id = grants.token_id), mac "
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
  if (!UniqueFd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)).valid()) {
    return Error{Code::io_error,
                 "Cannot open the store " + path.string() + ": " + std::strerror(errno) + "."};
  }

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
  if (Status s = sqlite::migrate(store->db_); !s.ok()) {
    if (s.code() != Code::invalid_argument) return s;
    return Error{s.code(), "The store " + path.string() + ": " + std::string(s.message())};
  }
  const unsigned cores = std::max(2u, std::thread::hardware_concurrency());
  if (Status s = store->open_readers(path, static_cast<int>(std::min(cores, 8u))); !s.ok()) {
    return s;
  }
  return store;
}

void SqliteStore::forget_verifiers() {
  std::lock_guard lock(cache_.mu);
  ++cache_.generation;
  cache_.grants.clear();
}

Status SqliteStore::append_audit(const AuditEvent& audit) {
  return audited_write(audit, [&](AuditEvent&) -> Status { return Status(); });
}

Status SqliteStore::write_token_row_mac_locked(const TokenRecord& token) {
  auto mac = keys_->token_mac(token);
  if (!mac.ok()) return mac.error();
  Stmt q(db_, "UPDATE tokens SET mac = ? WHERE id = ?");
  q.bind(1, *mac).bind(2, token.id);
  return q.run("record the token's MAC");
}

Result<std::int64_t> SqliteStore::add_token(const TokenRecord& t, const AuditEvent& audit) {
  return audited_write(audit, [&](AuditEvent&) { return insert_token_locked(t); });
}

Result<std::int64_t> SqliteStore::insert_token_locked(const TokenRecord& t) {
  Stmt ins(db_,
           "INSERT INTO tokens (user, label, kind, credential, rp_id, algorithm, "
           "public_key, uv, sign_count, aaguid, attestation_format, attestation_x5c, "
           "device, is_virtual, created, rolling_challenge, rolling_hash) "
           "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  ins.bind(1, t.user)
      .bind(2, t.label)
      .bind(3, token_kind_name(t.kind))
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
  TokenRecord stored = t;
  stored.id = sqlite3_last_insert_rowid(db_);
  stored.revoked.reset();
  if (Status s = write_token_row_mac_locked(stored); !s.ok()) return s.error();
  return stored.id;
}

Result<std::vector<TokenRecord>> SqliteStore::list_tokens(const std::string& user,
                                                          bool include_revoked) {
  return guarded([&]() -> Result<std::vector<TokenRecord>> {
    std::lock_guard lock(mu_);
    Stmt q(db_, "SELECT " + std::string(kTokenColumns) +
                    " FROM tokens WHERE (?1 = '' OR user = ?1) AND (?2 OR revoked IS NULL)"
                    " ORDER BY user, id");
    q.bind(1, user).bind(2, std::int64_t{include_revoked ? 1 : 0});
    return collect_rows(
        db_, q, [&](const Stmt& row) { return read_token(row, keys_.get()); }, "list tokens");
  });
}

Result<TokenRecord> SqliteStore::get_token(std::int64_t id) {
  return guarded([&]() -> Result<TokenRecord> {
    std::lock_guard lock(mu_);
    Stmt q(db_, "SELECT " + std::string(kTokenColumns) + " FROM tokens WHERE id = ?");
    q.bind(1, id);
    const int rc = q.step();
    if (rc == SQLITE_ROW) {
      auto t = read_token(q, keys_.get());
      if (t.ok() && !t->intact) return Error{Code::integrity, tampered_token(*t)};
      return t;
    }
    if (rc == SQLITE_DONE) return Error{Code::not_found, "No such token."};
    return db_error(db_, "read a token");
  });
}

Result<TokenRecord> SqliteStore::active_token_locked(std::int64_t id) {
  Stmt q(db_,
         "SELECT " + std::string(kTokenColumns) + " FROM tokens WHERE id = ? AND revoked IS NULL");
  q.bind(1, id);
  const int rc = q.step();
  if (rc == SQLITE_DONE) return Error{Code::not_found, "The token is no longer enrolled."};
  if (rc != SQLITE_ROW) return db_error(db_, "read a token");
  auto t = read_token(q, keys_.get());
  if (t.ok() && !t->intact) return Error{Code::integrity, tampered_token(*t)};
  return t;
}

Result<std::vector<GrantRecord>> SqliteStore::active_grants_locked(std::string_view where,
                                                                   const std::string& first,
                                                                   const std::string& second) {
  Stmt q(db_, "SELECT " + std::string(kGrantColumns) + " FROM grants WHERE revoked IS NULL AND (" +
                  std::string(where) + ") ORDER BY created, name");
  q.bind(1, first).bind(2, second);
  return collect_rows(
      db_, q, [&](const Stmt& row) { return read_grant(row, keys_.get()); }, "read grants");
}

Status SqliteStore::revoke_grant_row_locked(GrantRecord grant, UnixTime when,
                                            std::string& revoked) {
  // A row changed outside touchpassd may still be revoked (that is what an admin who finds one
  // wants), but it is not laundered silently: the audit entry says so.
  const bool was_intact = grant.intact;
  grant.revoked = when;
  auto mac = keys_->grant_mac(grant);
  if (!mac.ok()) return mac.error();
  Stmt q(db_, "UPDATE grants SET revoked = ?, mac = ? WHERE grant_id = ?");
  q.bind(1, when).bind(2, *mac).bind(3, grant.grant_id);
  if (Status s = q.run("revoke the grant"); !s.ok()) return s;
  if (!revoked.empty()) revoked += ',';
  revoked += to_hex(grant.grant_id);
  if (!was_intact) revoked += " (its record had been changed outside touchpassd)";
  return {};
}

namespace {

// Adds the store's own record of what a write revoked to its audit entry; log --verify reads it.
void note_revoked(AuditEvent& entry, const std::string& revoked) {
  if (revoked.empty()) return;
  if (!entry.detail.empty()) entry.detail += "; ";
  entry.detail += std::string(kRevokedGrantsNote) + revoked;
}

}  // namespace

Status SqliteStore::revoke_token(std::int64_t id, UnixTime when, const AuditEvent& audit) {
  return audited_write(audit, [&](AuditEvent& entry) -> Status {
    auto token = active_token_locked(id);
    if (!token.ok()) {
      if (token.error().code == Code::not_found) {
        return Error{Code::not_found, "No such active token."};
      }
      if (token.error().code != Code::integrity) return token.error();
      // Revoking a tampered token is allowed: read it again without the check.
    }
    Stmt q(db_, "SELECT " + std::string(kTokenColumns) + " FROM tokens WHERE id = ?");
    q.bind(1, id);
    if (q.step() != SQLITE_ROW) return db_error(db_, "read a token");
    auto read = read_token(q, keys_.get());
    if (!read.ok()) return read.error();
    TokenRecord t = std::move(*read);
    const bool was_intact = t.intact;
    t.revoked = when;
    auto mac = keys_->token_mac(t);
    if (!mac.ok()) return mac.error();
    Stmt tok(db_, "UPDATE tokens SET revoked = ?, mac = ? WHERE id = ?");
    tok.bind(1, when).bind(2, *mac).bind(3, id);
    if (Status s = tok.run("revoke the token"); !s.ok()) return s;
    if (!was_intact) {
      if (!entry.detail.empty()) entry.detail += "; ";
      entry.detail += "the key's record had been changed outside touchpassd";
    }
    auto grants =
        active_grants_locked("token_id = CAST(?1 AS INTEGER) AND ?2 = ''", std::to_string(id), "");
    if (!grants.ok()) return grants.error();
    std::string revoked;
    for (const GrantRecord& g : *grants) {
      if (Status s = revoke_grant_row_locked(g, when, revoked); !s.ok()) return s;
    }
    note_revoked(entry, revoked);
    return Status();
  });
}

Status SqliteStore::write_token_state_locked(std::int64_t token_id, const TokenState& state) {
  auto token = active_token_locked(token_id);
  if (!token.ok()) return token.error();
  // Empty rolling values keep the stored ones (FIDO2 tokens have none).
  token->sign_count = state.sign_count;
  if (!state.rolling_challenge.empty()) token->rolling_challenge = state.rolling_challenge;
  if (!state.rolling_hash.empty()) token->rolling_hash = state.rolling_hash;
  auto mac = keys_->token_mac(*token);
  if (!mac.ok()) return mac.error();
  Stmt tok(db_,
           "UPDATE tokens SET sign_count = ?, rolling_challenge = ?, rolling_hash = ?, mac = ? "
           "WHERE id = ?");
  tok.bind(1, std::int64_t{token->sign_count})
      .bind(2, token->rolling_challenge)
      .bind(3, token->rolling_hash)
      .bind(4, *mac)
      .bind(5, token_id);
  return tok.run("record the token's state");
}

Status SqliteStore::add_grant(const GrantRecord& g, const TokenState& token_state,
                              const AuditEvent& audit) {
  return audited_write(audit, [&](AuditEvent& entry) -> Status {
    if (g.version != kGrantVersionV1 && g.version != kGrantVersionV2) {
      return Error{Code::invalid_argument, "The grant has format version " +
                                               std::to_string(g.version) +
                                               ", which this store does not know (1 or 2)."};
    }
    if (Status s = write_token_state_locked(g.token_id, token_state); !s.ok()) return s;
    GrantRecord stored = g;
    stored.revoked.reset();
    auto mac = keys_->grant_mac(stored);
    if (!mac.ok()) return mac.error();
    Stmt ins(db_,
             "INSERT INTO grants (grant_id, user, name, scopes, created, expires, "
             "token_id, kind, credential, verifier, proof_auth_data, proof_signature, mac, "
             "version, rp_id, proof_client_data) "
             "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    ins.bind(1, g.grant_id)
        .bind(2, g.user)
        .bind(3, g.name)
        .bind(4, join_scopes(g.scopes))
        .bind(5, g.created)
        .bind(6, g.expires)
        .bind(7, g.token_id)
        .bind(8, token_kind_name(g.kind))
        .bind(9, g.credential)
        .bind(10, g.verifier)
        .bind(11, g.proof_auth_data)
        .bind(12, g.proof_signature)
        .bind(13, *mac)
        .bind(14, static_cast<std::int64_t>(g.version))
        .bind(15, g.rp_id)
        .bind_or_null(16, g.proof_client_data);
    const int rc = ins.step();
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
      return Error{Code::invalid_argument, "An app password named \"" + g.name +
                                               "\" already exists; choose another name or "
                                               "revoke the old one first."};
    }
    if (rc != SQLITE_DONE) return db_error(db_, "store the grant");
    if (!entry.detail.empty()) entry.detail += "; ";
    entry.detail += std::string(kIssuedGrantNote) + to_hex(g.grant_id);
    return Status();
  });
}

Result<GrantRecord> SqliteStore::find_grant(const std::string& user, const std::string& name) {
  return guarded([&]() -> Result<GrantRecord> {
    std::lock_guard lock(mu_);
    auto found = active_grants_locked("user = ?1 AND name = ?2", user, name);
    if (!found.ok()) return found.error();
    if (found->empty()) {
      return Error{Code::not_found, "There is no app password named \"" + name + "\"."};
    }
    if (!found->front().intact) return Error{Code::integrity, tampered_grant(found->front())};
    return found->front();
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
      g.created = q.integer(4);
      g.expires = q.integer(5);
      g.token_id = q.integer(6);
      auto kind = read_kind(q, 7, "app password \"" + g.name + "\" of " + g.user);
      if (kind.ok()) g.kind = *kind;
      g.credential = q.blob(8);
      g.version = static_cast<std::uint64_t>(q.integer(9));
      g.rp_id = q.text(10);
      g.revoked = q.optional_integer(11);
      g.token_revoked = q.integer(12) != 0;
      g.verifier = verifier;
      // keys_ is set once, before any verification is served.
      const StoreKeys* keys = keys_.get();
      auto mac = keys != nullptr ? keys->grant_mac(g) : Result<Bytes>(Bytes());
      // A row of an unknown kind cannot be a record touchpassd wrote: refused as tampered.
      g.intact = kind.ok() && keys != nullptr && mac.ok() && mac_matches(q.blob(13), *mac);
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
    return collect_rows(
        db_, q, [&](const Stmt& row) { return read_grant(row, keys_.get()); }, "list grants");
  });
}

Status SqliteStore::update_token_state(std::int64_t token_id, const TokenState& state,
                                       const AuditEvent& audit) {
  return audited_write(
      audit, [&](AuditEvent&) -> Status { return write_token_state_locked(token_id, state); });
}

Status SqliteStore::revoke_grant(const std::string& user, const std::string& name, UnixTime when,
                                 const AuditEvent& audit) {
  return audited_write(audit, [&](AuditEvent& entry) -> Status {
    auto found = active_grants_locked("user = ?1 AND name = ?2", user, name);
    if (!found.ok()) return found.error();
    if (found->empty()) {
      return Error{Code::not_found, "There is no app password named \"" + name + "\"."};
    }
    std::string revoked;
    if (Status s = revoke_grant_row_locked(found->front(), when, revoked); !s.ok()) return s;
    note_revoked(entry, revoked);
    return Status();
  });
}

Result<int> SqliteStore::revoke_all_grants(const std::string& user, UnixTime when,
                                           const AuditEvent& audit) {
  return audited_write(audit, [&](AuditEvent& entry) -> Result<int> {
    auto found = active_grants_locked("user = ?1 AND ?2 = ''", user, "");
    if (!found.ok()) return found.error();
    std::string revoked;
    for (const GrantRecord& g : *found) {
      if (Status s = revoke_grant_row_locked(g, when, revoked); !s.ok()) return s.error();
    }
    note_revoked(entry, revoked);
    return static_cast<int>(found->size());
  });
}

Status SqliteStore::rename_grant(const std::string& user, const std::string& old_name,
                                 const std::string& new_name, const AuditEvent& audit) {
  return audited_write(audit, [&](AuditEvent&) -> Status {
    // The grant's name is part of its encoding (and so of its clientDataHash), not of the
    // password derivation (salt and HKDF use only the grant id), so renaming keeps the password.
    auto found = active_grants_locked("user = ?1 AND name = ?2", user, old_name);
    if (!found.ok()) return found.error();
    if (found->empty()) {
      return Error{Code::not_found, "There is no app password named \"" + old_name + "\"."};
    }
    GrantRecord g = found->front();
    if (!g.intact) return Error{Code::integrity, tampered_grant(g)};
    g.name = new_name;
    auto mac = keys_->grant_mac(g);
    if (!mac.ok()) return mac.error();
    Stmt q(db_, "UPDATE grants SET name = ?, mac = ? WHERE grant_id = ?");
    q.bind(1, new_name).bind(2, *mac).bind(3, g.grant_id);
    const int rc = q.step();
    if (rc == SQLITE_CONSTRAINT_UNIQUE) {
      return Error{Code::invalid_argument,
                   "An app password named \"" + new_name + "\" already exists."};
    }
    if (rc != SQLITE_DONE) return db_error(db_, "rename the grant");
    return Status();
  });
}

Status SqliteStore::write_verification_batch(const VerificationBatch& batch) {
  if (batch.usages.empty() && batch.throttles.empty() && batch.audits.empty()) return {};
  return guarded([&]() -> Status {
    std::lock_guard lock(mu_);
    if (!keys_) return Error{Code::internal, std::string(kNoKeys)};
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
      Status committed = tx.commit();
      if (committed.ok()) {
        publish_head_locked(false);
      } else {
        pending_head_.reset();
      }
      return committed;
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
