// SqliteStore: the Store on one SQLite database file, in WAL mode with synchronous=FULL, so
// every enroll, issue and revoke is durable when the call returns. The schema is versioned
// (PRAGMA user_version) and migrated forward on open; a database from a newer touchpass is
// refused rather than touched. Thread-safe: writes and administrative reads are serialized on
// one connection; verification's look-ups run on their own read-only connections and never
// wait for a writer's commit.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace touchpass::store {

class SqliteStore final : public Store {
 public:
  // The schema version this build writes.
  static constexpr int kSchemaVersion = 5;

  // Opens (creating with mode 0600 if missing) and migrates the database at `path`. A file that
  // exists but is empty (0 bytes), or an SQLite database that is not a touchpass store, is
  // refused (invalid_argument) and left alone: neither is ever taken for a new, empty store.
  static Result<std::unique_ptr<SqliteStore>> open(const std::filesystem::path& path);

  ~SqliteStore() override;

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

  Status append_audit(const AuditEvent& audit) override;
  Result<std::vector<AuditEntry>> list_audit(const std::string& user, int limit) override;
  Status verify_audit() override;

  Status write_verification_batch(const VerificationBatch& batch) override;
  Result<std::vector<Throttle>> list_throttles() override;
  Result<std::optional<Bytes>> pepper_fingerprint() override;
  Status set_pepper_fingerprint(const Bytes& fingerprint) override;
  Result<bool> holds_data() override;

 private:
  // A read-only connection for verification's look-ups, used by one thread at a time.
  struct Reader {
    std::mutex mu;
    sqlite3* db = nullptr;
    sqlite3_stmt* by_verifier = nullptr;
    ~Reader();
  };

  explicit SqliteStore(sqlite3* db);
  Status migrate();
  Status open_readers(const std::filesystem::path& path, int count);
  // Appends one audit entry; the caller holds mu_ and has a transaction open.
  Status append_audit_locked(const AuditEvent& audit);
  // Writes a token's new state; not_found when it is not an active token. Caller holds mu_ and
  // has a transaction open.
  Status write_token_state_locked(std::int64_t token_id, const TokenState& state);
  // Runs `body` (which returns Status or Result<T>) under the lock in one transaction that also
  // appends `audit`; commits only when both succeed, so a failed change leaves no trace.
  template <class F>
  auto audited_write(const AuditEvent& audit, F&& body) -> decltype(body());

  std::mutex mu_;
  sqlite3* db_;
  std::vector<std::unique_ptr<Reader>> readers_;
  std::atomic<unsigned> next_reader_{0};

  // Grants found by verifier, remembered until the next write that could change any grant or
  // token (every such write goes through audited_write, in this process: one daemon per
  // store). A look-up that raced with a write is not remembered (`generation`).
  struct VerifierCache {
    std::mutex mu;
    std::uint64_t generation = 0;
    std::unordered_map<std::string, GrantRecord> grants;  // by the verifier's bytes
  };
  static constexpr std::size_t kVerifierCacheSize = 4096;
  void forget_verifiers();
  // find_grant_by_verifier without the cache: on a read connection.
  Result<std::optional<GrantRecord>> look_up_verifier(const Bytes& verifier);
  VerifierCache cache_;
};

}  // namespace touchpass::store
