#include "store/sql_store.h"

#include <string_view>
#include <utility>

#include "core/assertion.h"
#include "core/grant.h"
#include "store/audit_chain.h"
#include "store/integrity.h"
#include "store/sql_audited_write.h"
#include "store/sql_rows.h"
#include "store/sql_support.h"

namespace touchpass::store {

using namespace sql;

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

// Only what verification needs: no proofs or usage to copy on every login.
constexpr std::string_view kByVerifier =
    "SELECT grant_id, \"user\", name, scopes, created, expires, token_id, kind, credential, "
    "version, rp_id, revoked, "
    "(SELECT revoked IS NOT NULL FROM tokens WHERE tokens.id = grants.token_id), mac, networks "
    "FROM grants WHERE verifier = ?";

SqlStore::SqlStore(Connections connections, bool sole_writer)
    : db_(std::move(connections.writer)), sole_writer_(sole_writer) {
  for (auto& connection : connections.readers) {
    auto reader = std::make_unique<Reader>();
    reader->by_verifier = connection->prepare(kByVerifier);
    reader->connection = std::move(connection);
    readers_.push_back(std::move(reader));
  }
}

SqlStore::~SqlStore() {
  readers_.clear();
}

void SqlStore::forget_verifiers() {
  std::lock_guard lock(cache_.mu);
  ++cache_.generation;
  cache_.grants.clear();
}

Status SqlStore::append_audit(const AuditEvent& audit) {
  return audited_write(audit, [&](AuditEvent&) -> Status { return Status(); });
}

Status SqlStore::write_token_row_mac_locked(const TokenRecord& token) {
  auto mac = keys_->token_mac(token);
  if (!mac.ok()) return mac.error();
  Query q(*db_, "UPDATE tokens SET mac = ? WHERE id = ?");
  q.bind(1, *mac).bind(2, token.id);
  return q.run("record the token's MAC");
}

Result<std::int64_t> SqlStore::add_token(const TokenRecord& t, const AuditEvent& audit) {
  return audited_write(audit, [&](AuditEvent&) { return insert_token_locked(t); });
}

Result<std::int64_t> SqlStore::insert_token_locked(const TokenRecord& t) {
  Query ins(*db_,
            "INSERT INTO tokens (\"user\", label, kind, credential, rp_id, algorithm, "
            "public_key, uv, sign_count, aaguid, attestation_format, attestation_x5c, "
            "device, is_virtual, created, rolling_challenge, rolling_hash) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id");
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
  const Step rc = ins.step();
  if (rc == Step::unique_violation) {
    return Error{Code::invalid_argument, "A token labelled \"" + t.label +
                                             "\" is already enrolled; choose another "
                                             "label."};
  }
  if (rc != Step::row) return db_->error("store the token");
  TokenRecord stored = t;
  stored.id = ins.integer(0);
  if (ins.step() != Step::done) return db_->error("store the token");
  stored.revoked.reset();
  if (Status s = write_token_row_mac_locked(stored); !s.ok()) return s.error();
  return stored.id;
}

Result<std::vector<TokenRecord>> SqlStore::list_tokens(const std::string& user,
                                                       bool include_revoked) {
  return guarded([&]() -> Result<std::vector<TokenRecord>> {
    std::lock_guard lock(mu_);
    Query q(*db_,
            "SELECT " + std::string(kTokenColumns) +
                " FROM tokens WHERE (?1 = '' OR \"user\" = ?1) AND (?2 = 1 OR revoked IS NULL)"
                " ORDER BY \"user\", id");
    q.bind(1, user).bind(2, std::int64_t{include_revoked ? 1 : 0});
    return collect_rows(
        q, [&](const Query& row) { return read_token(row, keys_.get()); }, "list tokens");
  });
}

Result<TokenRecord> SqlStore::get_token(std::int64_t id) {
  return guarded([&]() -> Result<TokenRecord> {
    std::lock_guard lock(mu_);
    Query q(*db_, "SELECT " + std::string(kTokenColumns) + " FROM tokens WHERE id = ?");
    q.bind(1, id);
    const Step rc = q.step();
    if (rc == Step::row) {
      auto t = read_token(q, keys_.get());
      if (t.ok() && !t->intact) return Error{Code::integrity, tampered_token(*t)};
      return t;
    }
    if (rc == Step::done) return Error{Code::not_found, "No such token."};
    return db_->error("read a token");
  });
}

Result<TokenRecord> SqlStore::active_token_locked(std::int64_t id) {
  Query q(*db_,
          "SELECT " + std::string(kTokenColumns) + " FROM tokens WHERE id = ? AND revoked IS NULL");
  q.bind(1, id);
  const Step rc = q.step();
  if (rc == Step::done) return Error{Code::not_found, "The token is no longer enrolled."};
  if (rc != Step::row) return db_->error("read a token");
  auto t = read_token(q, keys_.get());
  if (t.ok() && !t->intact) return Error{Code::integrity, tampered_token(*t)};
  return t;
}

Result<std::vector<GrantRecord>> SqlStore::active_grants_locked(std::string_view where,
                                                                const std::string& first,
                                                                const std::string& second) {
  Query q(*db_, "SELECT " + std::string(kGrantColumns) +
                    " FROM grants WHERE revoked IS NULL AND (" + std::string(where) +
                    ") ORDER BY created, name");
  q.bind(1, first).bind(2, second);
  return collect_rows(
      q, [&](const Query& row) { return read_grant(row, keys_.get()); }, "read grants");
}

Status SqlStore::revoke_grant_row_locked(GrantRecord grant, UnixTime when, std::string& revoked) {
  // A row changed outside touchpassd may still be revoked (that is what an admin who finds one
  // wants), but it is not laundered silently: the audit entry says so.
  const bool was_intact = grant.intact;
  grant.revoked = when;
  auto mac = keys_->grant_mac(grant);
  if (!mac.ok()) return mac.error();
  Query q(*db_, "UPDATE grants SET revoked = ?, mac = ? WHERE grant_id = ?");
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

Status SqlStore::revoke_token(std::int64_t id, UnixTime when, const AuditEvent& audit) {
  return audited_write(audit, [&](AuditEvent& entry) -> Status {
    auto token = active_token_locked(id);
    if (!token.ok()) {
      if (token.error().code == Code::not_found) {
        return Error{Code::not_found, "No such active token."};
      }
      if (token.error().code != Code::integrity) return token.error();
      // Revoking a tampered token is allowed: read it again without the check.
    }
    Query q(*db_, "SELECT " + std::string(kTokenColumns) + " FROM tokens WHERE id = ?");
    q.bind(1, id);
    if (q.step() != Step::row) return db_->error("read a token");
    auto read = read_token(q, keys_.get());
    if (!read.ok()) return read.error();
    TokenRecord t = std::move(*read);
    const bool was_intact = t.intact;
    t.revoked = when;
    auto mac = keys_->token_mac(t);
    if (!mac.ok()) return mac.error();
    Query tok(*db_, "UPDATE tokens SET revoked = ?, mac = ? WHERE id = ?");
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

Status SqlStore::write_token_state_locked(std::int64_t token_id, const TokenState& state) {
  auto token = active_token_locked(token_id);
  if (!token.ok()) return token.error();
  // Compare and set (records.h): the use must have been checked against what is stored now.
  if (Status s = check_sign_count(state.sign_count, token->sign_count); !s.ok()) return s;
  if (!state.rolling_challenge.empty() && state.answered_challenge != token->rolling_challenge) {
    return Error{Code::verification_failed,
                 "The YubiKey \"" + token->label +
                     "\" was used for something else meanwhile, so this answer is out of date; "
                     "try again."};
  }
  // Empty rolling values keep the stored ones (FIDO2 tokens have none).
  token->sign_count = state.sign_count;
  if (!state.rolling_challenge.empty()) token->rolling_challenge = state.rolling_challenge;
  if (!state.rolling_hash.empty()) token->rolling_hash = state.rolling_hash;
  auto mac = keys_->token_mac(*token);
  if (!mac.ok()) return mac.error();
  Query tok(*db_,
            "UPDATE tokens SET sign_count = ?, rolling_challenge = ?, rolling_hash = ?, mac = ? "
            "WHERE id = ?");
  tok.bind(1, std::int64_t{token->sign_count})
      .bind(2, token->rolling_challenge)
      .bind(3, token->rolling_hash)
      .bind(4, *mac)
      .bind(5, token_id);
  return tok.run("record the token's state");
}

Status SqlStore::add_grant(const GrantRecord& g, const TokenState& token_state,
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
    Query ins(*db_,
              "INSERT INTO grants (grant_id, \"user\", name, scopes, created, expires, "
              "token_id, kind, credential, verifier, proof_auth_data, proof_signature, mac, "
              "version, rp_id, proof_client_data, networks) "
              "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
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
        .bind_or_null(16, g.proof_client_data)
        .bind(17, join_scopes(g.networks));
    const Step rc = ins.step();
    if (rc == Step::unique_violation) {
      return Error{Code::invalid_argument, "An app password named \"" + g.name +
                                               "\" already exists; choose another name or "
                                               "revoke the old one first."};
    }
    if (rc != Step::done) return db_->error("store the grant");
    if (!entry.detail.empty()) entry.detail += "; ";
    entry.detail += std::string(kIssuedGrantNote) + to_hex(g.grant_id);
    return Status();
  });
}

Result<GrantRecord> SqlStore::find_grant(const std::string& user, const std::string& name) {
  return guarded([&]() -> Result<GrantRecord> {
    std::lock_guard lock(mu_);
    auto found = active_grants_locked("\"user\" = ?1 AND name = ?2", user, name);
    if (!found.ok()) return found.error();
    if (found->empty()) {
      return Error{Code::not_found, "There is no app password named \"" + name + "\"."};
    }
    if (!found->front().intact) return Error{Code::integrity, tampered_grant(found->front())};
    return found->front();
  });
}

Result<std::optional<GrantRecord>> SqlStore::find_grant_by_verifier(const Bytes& verifier) {
  if (!sole_writer_) return look_up_verifier(verifier);
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

SqlStore::ReaderLease SqlStore::lease_reader() {
  const std::size_t n = readers_.size();
  const std::size_t first = next_reader_.fetch_add(1, std::memory_order_relaxed) % n;
  for (std::size_t i = 0; i < n; ++i) {
    Reader* candidate = readers_[(first + i) % n].get();
    std::unique_lock<std::mutex> attempt(candidate->mu, std::try_to_lock);
    if (attempt.owns_lock()) return {candidate, std::move(attempt)};
  }
  Reader* reader = readers_[first].get();
  return {reader, std::unique_lock<std::mutex>(reader->mu)};
}

template <class F>
auto SqlStore::on_counting_connection(F&& body)
    -> decltype(body(std::declval<sql::Connection&>())) {
  if (sole_writer_) {
    std::lock_guard lock(mu_);
    return body(*db_);
  }
  ReaderLease lease = lease_reader();
  return body(*lease.reader->connection);
}

Result<std::optional<GrantRecord>> SqlStore::look_up_verifier(const Bytes& verifier) {
  return guarded([&]() -> Result<std::optional<GrantRecord>> {
    ReaderLease lease = lease_reader();
    Reader* reader = lease.reader;
    Query q(*reader->connection, *reader->by_verifier);
    q.bind(1, verifier);
    const Step rc = q.step();
    if (rc == Step::row) {
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
      g.networks = split_scopes(q.text(14));
      g.verifier = verifier;
      // keys_ is set once, before any verification is served.
      const StoreKeys* keys = keys_.get();
      auto mac = keys != nullptr ? keys->grant_mac(g) : Result<Bytes>(Bytes());
      // A row of an unknown kind cannot be a record touchpassd wrote: refused as tampered.
      g.intact = kind.ok() && keys != nullptr && mac.ok() && mac_matches(q.blob(13), *mac);
      return std::optional<GrantRecord>(std::move(g));
    }
    if (rc == Step::done) return std::optional<GrantRecord>();
    return q.error("look up a verifier");
  });
}

Result<std::vector<GrantRecord>> SqlStore::list_grants(const std::string& user,
                                                       bool include_revoked) {
  return guarded([&]() -> Result<std::vector<GrantRecord>> {
    std::lock_guard lock(mu_);
    Query q(*db_,
            "SELECT " + std::string(kGrantColumns) +
                " FROM grants WHERE (?1 = '' OR \"user\" = ?1) AND (?2 = 1 OR revoked IS NULL)"
                " ORDER BY \"user\", created, name");
    q.bind(1, user).bind(2, std::int64_t{include_revoked ? 1 : 0});
    return collect_rows(
        q, [&](const Query& row) { return read_grant(row, keys_.get()); }, "list grants");
  });
}

Status SqlStore::update_token_state(std::int64_t token_id, const TokenState& state,
                                    const AuditEvent& audit) {
  return audited_write(
      audit, [&](AuditEvent&) -> Status { return write_token_state_locked(token_id, state); });
}

Status SqlStore::revoke_grant(const std::string& user, const std::string& name, UnixTime when,
                              const AuditEvent& audit) {
  return audited_write(audit, [&](AuditEvent& entry) -> Status {
    auto found = active_grants_locked("\"user\" = ?1 AND name = ?2", user, name);
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

Result<int> SqlStore::revoke_all_grants(const std::string& user, UnixTime when,
                                        const AuditEvent& audit) {
  return audited_write(audit, [&](AuditEvent& entry) -> Result<int> {
    auto found = active_grants_locked("\"user\" = ?1 AND ?2 = ''", user, "");
    if (!found.ok()) return found.error();
    std::string revoked;
    for (const GrantRecord& g : *found) {
      if (Status s = revoke_grant_row_locked(g, when, revoked); !s.ok()) return s.error();
    }
    note_revoked(entry, revoked);
    return static_cast<int>(found->size());
  });
}

Status SqlStore::rename_grant(const std::string& user, const std::string& old_name,
                              const std::string& new_name, const AuditEvent& audit) {
  return audited_write(audit, [&](AuditEvent&) -> Status {
    // The grant's name is part of its encoding (and so of its clientDataHash), not of the
    // password derivation (salt and HKDF use only the grant id), so renaming keeps the password.
    auto found = active_grants_locked("\"user\" = ?1 AND name = ?2", user, old_name);
    if (!found.ok()) return found.error();
    if (found->empty()) {
      return Error{Code::not_found, "There is no app password named \"" + old_name + "\"."};
    }
    GrantRecord g = found->front();
    if (!g.intact) return Error{Code::integrity, tampered_grant(g)};
    g.name = new_name;
    auto mac = keys_->grant_mac(g);
    if (!mac.ok()) return mac.error();
    Query q(*db_, "UPDATE grants SET name = ?, mac = ? WHERE grant_id = ?");
    q.bind(1, new_name).bind(2, *mac).bind(3, g.grant_id);
    const Step rc = q.step();
    if (rc == Step::unique_violation) {
      return Error{Code::invalid_argument,
                   "An app password named \"" + new_name + "\" already exists."};
    }
    if (rc != Step::done) return db_->error("rename the grant");
    return Status();
  });
}

Status SqlStore::write_verification_batch(const VerificationBatch& batch) {
  if (batch.usages.empty() && batch.throttles.empty() && batch.audits.empty()) return {};
  return guarded([&]() -> Status {
    std::lock_guard lock(mu_);
    if (!keys_) return Error{Code::internal, std::string(kNoKeys)};
    Transaction tx(*db_, Durability::relaxed);
    if (!tx.begun().ok()) return tx.begun();
    Query used(*db_,
               "UPDATE grants SET last_used = ?, last_service = ?, last_remote = ? "
               "WHERE grant_id = ? AND (last_used IS NULL OR last_used <= ?)");
    for (const Usage& u : batch.usages) {
      used.bind(1, u.time).bind(2, u.service).bind(3, u.remote).bind(4, u.grant_id).bind(5, u.time);
      if (Status s = used.run("record usage"); !s.ok()) return s;
      used.reset();
    }
    Query keep(*db_,
               "INSERT INTO throttle (key, failures, last_failure, locked_until) VALUES (?,?,?,?) "
               "ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, "
               "last_failure = excluded.last_failure, locked_until = excluded.locked_until");
    Query drop(*db_, "DELETE FROM throttle WHERE key = ?");
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
    // Ended locks, and (shared stores) runs of failures long over with no attempt under way.
    Query ended(*db_,
                "DELETE FROM throttle WHERE (locked_until > 0 AND locked_until <= ?1) OR "
                "(locked_until = 0 AND last_failure <= ?2 AND "
                "(pending = 0 OR pending_since <= ?2))");
    ended.bind(1, batch.now).bind(2, batch.forget_before);
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
  });
}

Result<std::vector<Throttle>> SqlStore::list_throttles() {
  return guarded([&]() -> Result<std::vector<Throttle>> {
    std::lock_guard lock(mu_);
    Query q(*db_, "SELECT key, failures, last_failure, locked_until FROM throttle ORDER BY key");
    return collect(
        q,
        [](const Query& row) {
          return Throttle{row.text(0), static_cast<int>(row.integer(1)), row.integer(2),
                          row.integer(3)};
        },
        "read the throttle state");
  });
}

namespace {

Throttle read_throttle(const Query& row) {
  return Throttle{row.text(0), static_cast<int>(row.integer(1)), row.integer(2), row.integer(3)};
}

}  // namespace

namespace {

// The parts of the throttle statements (parameters: ?1 key, ?2 now, ?3 limit, ?4 lockout,
// ?5 abandoned_after, ?6 failed). The existing row is "throttle".
// A lock that has ended, or a run whose last failure is a lockout old, starts over.
constexpr std::string_view kLockEnded =
    "(throttle.locked_until > 0 AND throttle.locked_until <= ?2)";
constexpr std::string_view kRunOld =
    "(throttle.locked_until = 0 AND ?2 - throttle.last_failure >= ?4)";

std::string current_failures() {
  return "(CASE WHEN " + std::string(kLockEnded) + " OR " + std::string(kRunOld) +
         " THEN 0 ELSE throttle.failures END)";
}
std::string current_lock() {
  return "(CASE WHEN " + std::string(kLockEnded) + " THEN 0 ELSE throttle.locked_until END)";
}
// Attempts under evaluation, unless the newest was reserved so long ago that all are abandoned.
std::string current_pending() {
  return "(CASE WHEN throttle.pending_since <= ?2 - ?5 THEN 0 ELSE throttle.pending END)";
}

constexpr std::string_view kThrottleColumns = "key, failures, last_failure, locked_until";

}  // namespace

Result<Reservation> SqlStore::reserve_attempt(const std::string& key, UnixTime now,
                                              const FailureRule& rule) {
  return guarded([&]() -> Result<Reservation> {
    return on_counting_connection([&](sql::Connection& connection) -> Result<Reservation> {
      // One statement: hosts reserving at once are each counted, and none past the limit.
      Query q(connection,
              "INSERT INTO throttle (key, failures, last_failure, locked_until, pending, "
              "pending_since) VALUES (?1, 0, 0, 0, 1, ?2) "
              "ON CONFLICT (key) DO UPDATE SET failures = " +
                  current_failures() + ", locked_until = " + current_lock() +
                  ", pending = " + current_pending() +
                  " + 1, pending_since = ?2 "
                  "WHERE " +
                  current_lock() + " = 0 AND " + current_failures() + " + " + current_pending() +
                  " < ?3 RETURNING " + std::string(kThrottleColumns));
      q.bind(1, key).bind(2, now).bind(3, std::int64_t{rule.limit}).bind(4, rule.lockout);
      q.bind(5, rule.abandoned_after);
      const Step rc = q.step();
      if (rc == Step::read_only) return Reservation{false, Throttle{key, 0, 0, 0}, false};
      if (rc == Step::row) {
        Reservation reserved{true, read_throttle(q)};
        if (q.step() != Step::done) return q.error("reserve an attempt");
        return reserved;
      }
      if (rc != Step::done) return q.error("reserve an attempt");
      // Refused: locked, or full. Read the state as it is.
      Query state(connection, "SELECT " + std::string(kThrottleColumns) + ", " + current_lock() +
                                  " FROM throttle WHERE key = ?1");
      state.bind(1, key).bind(2, now);
      const Step found = state.step();
      // Gone meanwhile (lifted, or forgotten): not locked; the caller asks again.
      if (found == Step::done) return Reservation{false, Throttle{key, 0, 0, 0}};
      if (found != Step::row) return state.error("read a failure count");
      Reservation refused{false, read_throttle(state)};
      refused.state.locked_until = state.integer(4);
      return refused;
    });
  });
}

Result<Throttle> SqlStore::end_attempt(const std::string& key, UnixTime now, bool failed,
                                       const FailureRule& rule) {
  return guarded([&]() -> Result<Throttle> {
    return on_counting_connection([&](sql::Connection& connection) -> Result<Throttle> {
      const std::string restart =
          "(" + std::string(kLockEnded) + " OR " + std::string(kRunOld) + ")";
      const std::string counted =
          "(CASE WHEN " + restart + " THEN 1 ELSE throttle.failures + 1 END)";
      Query q(connection,
              "INSERT INTO throttle (key, failures, last_failure, locked_until, pending, "
              "pending_since) VALUES (?1, ?6, ?6 * ?2, "
              "CASE WHEN ?6 = 1 AND ?3 = 1 THEN ?2 + ?4 ELSE 0 END, 0, 0) "
              "ON CONFLICT (key) DO UPDATE SET "
              "pending = CASE WHEN throttle.pending > 0 THEN throttle.pending - 1 ELSE 0 END, "
              "failures = CASE WHEN ?6 = 0 THEN throttle.failures ELSE " +
                  counted +
                  " END, "
                  "last_failure = CASE WHEN ?6 = 0 THEN throttle.last_failure ELSE ?2 END, "
                  "locked_until = CASE WHEN ?6 = 0 THEN throttle.locked_until "
                  "WHEN throttle.locked_until > ?2 THEN throttle.locked_until "
                  "WHEN ?3 > 0 AND " +
                  counted + " >= ?3 THEN ?2 + ?4 ELSE 0 END RETURNING " +
                  std::string(kThrottleColumns));
      q.bind(1, key).bind(2, now).bind(3, std::int64_t{rule.limit}).bind(4, rule.lockout);
      q.bind(5, rule.abandoned_after).bind(6, std::int64_t{failed ? 1 : 0});
      if (q.step() != Step::row) return q.error("count a failure");
      Throttle state = read_throttle(q);
      if (q.step() != Step::done) return q.error("count a failure");
      return state;
    });
  });
}

Result<Throttle> SqlStore::throttle_state(const std::string& key) {
  return guarded([&]() -> Result<Throttle> {
    return on_counting_connection([&](sql::Connection& connection) -> Result<Throttle> {
      Query q(connection,
              "SELECT key, failures, last_failure, locked_until FROM throttle WHERE key = ?");
      q.bind(1, key);
      const Step rc = q.step();
      if (rc == Step::done) return Throttle{key, 0, 0, 0};
      if (rc != Step::row) return q.error("read a failure count");
      return read_throttle(q);
    });
  });
}

Status SqlStore::forget_throttles(const std::vector<std::string>& keys) {
  return guarded([&]() -> Status {
    return on_counting_connection([&](sql::Connection& connection) -> Status {
      if (keys.empty()) return Query(connection, "DELETE FROM throttle").run("lift every lock");
      Query drop(connection, "DELETE FROM throttle WHERE key = ?");
      for (const std::string& key : keys) {
        drop.bind(1, key);
        if (Status s = drop.run("lift a lock"); !s.ok()) return s;
        drop.reset();
      }
      return Status();
    });
  });
}

Result<std::optional<Bytes>> SqlStore::pepper_fingerprint() {
  return guarded([&]() -> Result<std::optional<Bytes>> {
    std::lock_guard lock(mu_);
    Query q(*db_, "SELECT value FROM meta WHERE key = 'pepper_fingerprint'");
    const Step rc = q.step();
    if (rc == Step::row) return std::optional<Bytes>(q.blob(0));
    if (rc == Step::done) return std::optional<Bytes>();
    return db_->error("read the pepper's fingerprint");
  });
}

Status SqlStore::set_pepper_fingerprint(const Bytes& fingerprint) {
  return guarded([&]() -> Status {
    std::lock_guard lock(mu_);
    Query q(*db_,
            "INSERT INTO meta (key, value) VALUES ('pepper_fingerprint', ?) "
            "ON CONFLICT (key) DO NOTHING");
    q.bind(1, fingerprint);
    return q.run("record the pepper's fingerprint");
  });
}

Result<bool> SqlStore::holds_data() {
  return guarded([&]() -> Result<bool> {
    std::lock_guard lock(mu_);
    Query q(*db_,
            "SELECT EXISTS (SELECT 1 FROM tokens) OR EXISTS (SELECT 1 FROM grants) OR "
            "EXISTS (SELECT 1 FROM audit)");
    if (q.step() != Step::row) return db_->error("look into the store");
    return q.integer(0) != 0;
  });
}

}  // namespace touchpass::store
