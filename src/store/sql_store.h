// SqlStore: both interfaces of the store (VerificationStore, AdminStore) on an SQL database —
// SQLite (sqlite_store.h) or PostgreSQL (postgres_store.h) — through sql::Connection, with the
// same semantics on both. Thread-safe: writes and administrative reads are serialized on one
// connection (and, across processes and hosts, by the database's write lock); verification's
// look-ups run on their own connections and never wait for a writer's commit.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/admin_store.h"
#include "store/sql_connection.h"
#include "store/verification_store.h"

namespace touchpass::store {

class SqlStore final : public VerificationStore, public AdminStore {
 public:
  struct Connections {
    std::unique_ptr<sql::Connection> writer;  // writes and administrative reads
    // Verification's look-ups (at least one), each used by one thread at a time.
    std::vector<std::unique_ptr<sql::Connection>> readers;
  };
  // A store on a database already at its backend's current schema. `sole_writer`: this
  // process is the only one that writes the database (SQLite: one daemon per store file), so
  // grants found by verifier may be remembered until its own next write; several hosts on one
  // database (PostgreSQL) never remember them, so that a revoke anywhere holds at once.
  SqlStore(Connections connections, bool sole_writer);
  ~SqlStore() override;
  SqlStore(const SqlStore&) = delete;
  SqlStore& operator=(const SqlStore&) = delete;

  Result<std::int64_t> add_token(const TokenRecord& token, const AuditEvent& audit) override;
  Result<std::vector<TokenRecord>> list_tokens(const std::string& user,
                                               bool include_revoked) override;
  Result<TokenRecord> get_token(std::int64_t id) override;
  Status revoke_token(std::int64_t id, UnixTime when, const AuditEvent& audit) override;

  Status add_grant(const GrantRecord& grant, const TokenState& token_state,
                   const AuditEvent& audit) override;
  Result<GrantRecord> find_grant(const std::string& user, const std::string& name) override;
  Result<std::optional<GrantRecord>> find_grant_by_verifier(const Bytes& verifier) override;
  Result<std::vector<GrantRecord>> list_grants(const std::string& user,
                                               bool include_revoked) override;
  Status update_token_state(std::int64_t token_id, const TokenState& state,
                            const AuditEvent& audit) override;
  Status revoke_grant(const std::string& user, const std::string& name, UnixTime when,
                      const AuditEvent& audit) override;
  Result<int> revoke_all_grants(const std::string& user, UnixTime when,
                                const AuditEvent& audit) override;
  Status rename_grant(const std::string& user, const std::string& old_name,
                      const std::string& new_name, const AuditEvent& audit) override;

  Result<std::int64_t> add_invitation(const InvitationRecord& invitation,
                                      const AuditEvent& audit) override;
  Result<InvitationRecord> find_invitation(const Bytes& code_hash) override;
  Result<std::int64_t> add_invited_token(const TokenRecord& token, const Bytes& code_hash,
                                         UnixTime now, const AuditEvent& audit) override;

  Status use_keys(std::shared_ptr<const StoreKeys> keys, UnixTime now, bool may_key) override;
  Result<AuditHead> audit_head() override;
  void set_audit_observer(AuditObserver observer) override;
  Status check_audit_anchor(const AuditHead& anchor) override;

  Status append_audit(const AuditEvent& audit) override;
  Result<std::vector<AuditEntry>> list_audit(const std::string& user, int limit) override;
  Status verify_audit(const std::optional<AuditHead>& anchor) override;

  Status write_verification_batch(const VerificationBatch& batch) override;
  Result<std::vector<Throttle>> list_throttles() override;
  bool shares_throttles() const override { return !sole_writer_; }
  Result<Reservation> reserve_attempt(const std::string& key, UnixTime now,
                                      const FailureRule& rule) override;
  Result<Throttle> end_attempt(const std::string& key, UnixTime now, bool failed,
                               const FailureRule& rule) override;
  Result<Throttle> throttle_state(const std::string& key) override;
  Status forget_throttles(const std::vector<std::string>& keys) override;
  Result<std::optional<Bytes>> pepper_fingerprint() override;
  Status set_pepper_fingerprint(const Bytes& fingerprint) override;
  Result<bool> holds_data() override;

 private:
  // A connection for verification's look-ups, used by one thread at a time, with its prepared
  // look-up (destroyed before the connection).
  struct Reader {
    std::mutex mu;
    std::unique_ptr<sql::Connection> connection;
    std::unique_ptr<sql::Statement> by_verifier;
    ~Reader() { by_verifier.reset(); }
  };
  // Appends one audit entry (keyed link); the caller holds mu_ and has a transaction open.
  // The new head is kept in pending_head_ until the commit.
  Status append_audit_locked(const AuditEvent& audit);
  // After a commit (mu_ held): the pending head becomes the head; the observer is told.
  void publish_head_locked(bool durable);
  Result<AuditHead> audit_head_locked();
  Status check_audit_anchor_locked(const AuditHead& anchor);
  // The table checks of verify_audit (mu_ held): MACs, and the tables against `entries`.
  Status check_tables_locked(const std::vector<AuditEntry>& entries);
  // The first audit entry keyed (meta "audit_keyed_from"), 0 when the store was never keyed;
  // integrity when the record is damaged. mu_ held.
  Result<std::int64_t> recorded_keying_locked();
  // One-time keying of a store's existing rows (mu_ held, transaction open).
  Status protect_existing_rows_locked(UnixTime now);
  // Rows with their MAC checked (intact), mu_ held. The active token `id`: not_found when
  // there is none.
  Result<TokenRecord> active_token_locked(std::int64_t id);
  // Active grants matching `where` (an SQL condition on grants with ?1 and ?2 bound to
  // `first` and `second`).
  Result<std::vector<GrantRecord>> active_grants_locked(std::string_view where,
                                                        const std::string& first,
                                                        const std::string& second);
  // Marks `grant` revoked at `when` and gives it its new MAC; its hex id is added to `revoked`.
  Status revoke_grant_row_locked(GrantRecord grant, UnixTime when, std::string& revoked);
  Status write_token_row_mac_locked(const TokenRecord& token);
  // Inserts a new token with its MAC; invalid_argument when its label is taken. Caller holds
  // mu_ and has a transaction open.
  Result<std::int64_t> insert_token_locked(const TokenRecord& token);
  // integrity (naming the invitation) unless `mac` is the invitation's.
  Status check_invitation_mac_locked(const InvitationRecord& invitation, const Bytes& mac);
  // The intact invitation of `code_hash` (not_found, integrity). Caller holds mu_.
  Result<InvitationRecord> invitation_locked(const Bytes& code_hash);
  // Every invitation's MAC (for verify_audit).
  Status check_invitations_locked();
  // Writes a token's new state; not_found when it is not an active token. Caller holds mu_ and
  // has a transaction open.
  Status write_token_state_locked(std::int64_t token_id, const TokenState& state);
  // Runs `body(entry)` (which returns Status or Result<T>, and may add to the audit entry's
  // detail) under the lock in one transaction that also appends `audit`; commits only when
  // both succeed, so a failed change leaves no trace.
  template <class F>
  auto audited_write(const AuditEvent& audit, F&& body)
      -> decltype(body(std::declval<AuditEvent&>()));

  std::mutex mu_;
  std::unique_ptr<sql::Connection> db_;
  const bool sole_writer_;
  std::shared_ptr<const StoreKeys> keys_;  // set once by use_keys
  std::int64_t keyed_from_ = 0;            // 0 until use_keys
  AuditObserver observer_;
  std::optional<AuditHead> pending_head_;
  std::vector<std::unique_ptr<Reader>> readers_;
  std::atomic<unsigned> next_reader_{0};

  // Grants found by verifier, remembered (only when sole_writer_) until the next write that
  // could change any grant or token (every such write goes through audited_write). A look-up
  // that raced with a write is not remembered (`generation`).
  struct VerifierCache {
    std::mutex mu;
    std::uint64_t generation = 0;
    std::unordered_map<std::string, GrantRecord> grants;  // by the verifier's bytes
  };
  static constexpr std::size_t kVerifierCacheSize = 4096;
  void forget_verifiers();
  // A reader for one look-up: a free one if there is one, else the next in turn (waited for).
  struct ReaderLease {
    Reader* reader;
    std::unique_lock<std::mutex> lock;
  };
  ReaderLease lease_reader();
  // Runs `body(connection)` where a shared store counts failures: on a reader (a PostgreSQL
  // connection can write), or on the writer under mu_ for a store of one host (SQLite's
  // readers are read-only).
  template <class F>
  auto on_counting_connection(F&& body) -> decltype(body(std::declval<sql::Connection&>()));
  // find_grant_by_verifier without the cache: on a read connection.
  Result<std::optional<GrantRecord>> look_up_verifier(const Bytes& verifier);
  VerifierCache cache_;
};

}  // namespace touchpass::store
