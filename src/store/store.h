// The store: enrolled tokens, grants (app passwords) and the audit log.
//
// The interface assumes no particular database (DESIGN.md §6: SQLite now, PostgreSQL where one
// machine is outgrown). Every mutating call is one transaction that includes its audit entry:
// either all of it is stored, durably, or none of it. Nothing secret is ever stored: grants keep
// only their verifier (HMAC-SHA-256 under a pepper kept outside the store).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"

namespace touchpass::store {

// Seconds since the Unix epoch. The store never reads a clock: callers pass the time.
using UnixTime = std::int64_t;

// One enrolled token credential.
struct TokenRecord {
  std::int64_t id = 0;  // assigned by the store
  std::string user;     // owner (Unix user name)
  std::string label;    // the owner's name for it, unique among the owner's active tokens
  std::string kind;     // "fido2" or "yubikey"
  Bytes credential;     // FIDO2 credential id, or YubiKey serial (4 bytes, big endian) || slot
  std::string rp_id;    // FIDO2 only
  int algorithm = 0;    // COSE algorithm; FIDO2 only
  Bytes public_key;     // FIDO2 only
  std::string uv;       // "pin" or "presence"
  std::uint32_t sign_count = 0;
  Bytes aaguid;
  std::string attestation_format;
  Bytes attestation_x5c;  // DER of the attestation certificate, if any
  std::string device;     // what the token was (product name; "virtual" marks a virtual token)
  bool is_virtual = false;
  UnixTime created = 0;
  std::optional<UnixTime> revoked;
  // YubiKey only (DESIGN.md §4.2): the rolling challenge and a keyed hash of the response the
  // key must give to it; both are replaced after each successful use.
  Bytes rolling_challenge;
  Bytes rolling_hash;
  bool intact = true;  // read only: the row's MAC matches (integrity.h)
};

// What a token's use changes about it: FIDO2's signature counter, or a YubiKey's next rolling
// challenge (left as they are when empty).
struct TokenState {
  std::uint32_t sign_count = 0;
  Bytes rolling_challenge;
  Bytes rolling_hash;
  TokenState(std::uint32_t count = 0) : sign_count(count) {}  // NOLINT: implicit by design
};

// One grant: the record of one app password (DESIGN.md §5.1), its verifier and its proof.
struct GrantRecord {
  // The grant format version (core/grant.h: kGrantVersionV1 or kGrantVersionV2); it selects
  // the derivation, so verification and show need it. Grants stored before schema v7 are 1.
  std::uint64_t version = 1;
  Bytes grant_id;  // 16 bytes
  std::string user;
  std::string name;                 // unique among the user's active grants
  std::vector<std::string> scopes;  // sorted; empty = every service
  UnixTime created = 0;
  UnixTime expires = 0;  // 0 = never
  std::int64_t token_id = 0;
  std::string kind;   // "fido2" or "yubikey", as in the grant encoding
  Bytes credential;   // as in the grant encoding
  std::string rp_id;  // key 10 of the grant encoding: v2 FIDO2 grants only, empty otherwise
  Bytes verifier;     // 32 bytes: HMAC-SHA-256(pepper, normalized password)
  // The issue proof: the token's authenticator data and signature, and for a v2 FIDO2 grant
  // the clientDataJSON it signed (DESIGN.md §5.2; empty for v1, whose proof signs a raw hash).
  Bytes proof_auth_data;
  Bytes proof_signature;
  Bytes proof_client_data;
  std::optional<UnixTime> revoked;
  std::optional<UnixTime> last_used;
  std::string last_service;
  std::string last_remote;
  bool token_revoked = false;  // read only: the grant's token has been revoked
  bool intact = true;          // read only: the row's MAC matches (integrity.h)
};

// What happened, by whom, to whom. The store adds the sequence number and the hash chain.
struct AuditEvent {
  UnixTime time = 0;
  std::int64_t actor_uid = -1;
  std::string actor;   // the actor's user name, if known
  std::string action;  // "enroll", "issue", "show", "revoke", "rename", "refuse", …
  std::string user;    // whose token or grant
  std::string object;  // token label or grant name
  std::string result;  // "ok", or an error code name
  std::string detail;  // free text; never a secret
};

// A successful verification, recorded in batches (last_used is not worth a synchronous write
// per login).
struct Usage {
  Bytes grant_id;
  UnixTime time = 0;
  std::string service;
  std::string remote;
};

// A source of verifications (a client address, or its IPv6 network) locked out after too
// many failures; kept in the store so that a restart does not lift the lock.
struct Throttle {
  std::string key;  // the source
  int failures = 0;
  UnixTime last_failure = 0;
  UnixTime locked_until = 0;  // 0: not locked (the entry is then removed)
};

// What verification learned in the last few seconds, written in one transaction that is not
// synchronous: a power cut may lose the last seconds of it, never anything issued or revoked.
struct VerificationBatch {
  std::vector<Usage> usages;        // last use of grants
  std::vector<Throttle> throttles;  // locks to keep (locked_until > 0) or remove (0)
  std::vector<AuditEvent> audits;   // aggregated refusals and lockouts
  UnixTime now = 0;                 // locks that ended before this are removed
};

struct AuditEntry {
  std::int64_t seq = 0;
  AuditEvent event;
  Bytes prev_hash;  // 32 bytes; zeros for the first entry
  Bytes hash;       // SHA-256 over prev_hash and the entry (audit_chain.h)
};

// The newest entry of the audit log, as anchored outside the database (DESIGN.md §7).
struct AuditHead {
  std::int64_t seq = 0;         // 0: the log is empty
  Bytes hash;                   // the entry's link (empty when seq is 0)
  std::int64_t keyed_from = 0;  // the first entry chained under the audit key
};

// Told the new head after each commit that appended audit entries, in order; `durable` is
// false for verification batches (not synchronous: a power cut may lose them).
using AuditObserver = std::function<void(const AuditHead& head, bool durable)>;

class StoreKeys;  // integrity.h

class Store {
 public:
  virtual ~Store() = default;

  // Tokens. add_token fails with invalid_argument when the label is taken.
  virtual Result<std::int64_t> add_token(const TokenRecord& token, const AuditEvent& audit) = 0;
  // The user's tokens (every user's when `user` is empty), revoked ones only if asked.
  virtual Result<std::vector<TokenRecord>> list_tokens(const std::string& user,
                                                       bool include_revoked) = 0;
  virtual Result<TokenRecord> get_token(std::int64_t id) = 0;
  // Revokes a token and every active grant derived from it.
  virtual Status revoke_token(std::int64_t id, UnixTime when, const AuditEvent& audit) = 0;

  // Grants. add_grant also records the token's new state (counter or rolling challenge), in the
  // same transaction. invalid_argument when the user already has an active grant of that name.
  virtual Status add_grant(const GrantRecord& grant, const TokenState& token_state,
                           const AuditEvent& audit) = 0;
  // The user's active (unrevoked) grant of that name; not_found otherwise.
  virtual Result<GrantRecord> find_grant(const std::string& user, const std::string& name) = 0;
  // The grant with this verifier, if any, revoked or not (look-up for verification). Only the
  // fields verification needs and the row's MAC covers are filled: every field but the proofs
  // (proof_*) and the usage (last_used, last_service, last_remote).
  virtual Result<std::optional<GrantRecord>> find_grant_by_verifier(const Bytes& verifier) = 0;
  virtual Result<std::vector<GrantRecord>> list_grants(const std::string& user,
                                                       bool include_revoked) = 0;
  // Records a token's new state after a successful use (e.g. for show).
  virtual Status update_token_state(std::int64_t token_id, const TokenState& state,
                                    const AuditEvent& audit) = 0;
  // Revokes one active grant; not_found if the user has none of that name.
  virtual Status revoke_grant(const std::string& user, const std::string& name, UnixTime when,
                              const AuditEvent& audit) = 0;
  // Revokes all of the user's active grants; returns how many.
  virtual Result<int> revoke_all_grants(const std::string& user, UnixTime when,
                                        const AuditEvent& audit) = 0;
  virtual Status rename_grant(const std::string& user, const std::string& old_name,
                              const std::string& new_name, const AuditEvent& audit) = 0;

  // Integrity (integrity.h). Installs the keys derived from the pepper; every write needs
  // them. The first time a store gets its keys, every existing grant and token is given its
  // MAC and the audit log is keyed from the next entry on (an entry "protect" at `now` records
  // it when the store holds anything). A store whose rows carry MACs but which has lost the
  // record of its keying is refused (integrity), never keyed again; so is a store not yet
  // keyed when `may_key` is false (the anchor outside says it was keyed).
  virtual Status use_keys(std::shared_ptr<const StoreKeys> keys, UnixTime now, bool may_key) = 0;
  virtual Result<AuditHead> audit_head() = 0;
  virtual void set_audit_observer(AuditObserver observer) = 0;
  // integrity unless the log holds the anchored head (same entry, same link, same keying):
  // the error says whether entries were removed from its end or rewritten.
  virtual Status check_audit_anchor(const AuditHead& anchor) = 0;

  // Audit log: append-only and hash-chained.
  virtual Status append_audit(const AuditEvent& audit) = 0;
  // Entries in order; only those concerning `user` (as actor or target) when it is not empty;
  // at most `limit` of the newest when limit > 0.
  virtual Result<std::vector<AuditEntry>> list_audit(const std::string& user, int limit) = 0;
  // Checks the whole store (integrity error naming the first problem): the chain (each link,
  // keyed from keyed_from on), the anchored head when given, every grant's and token's MAC, no
  // grant without its issue entry (those made before keying excepted), no grant revoked in the
  // log but active in the table.
  virtual Status verify_audit(const std::optional<AuditHead>& anchor) = 0;

  // Verification support. The grant with this verifier (revoked or not) is found by
  // find_grant_by_verifier above; it never waits for a writer.
  // Writes `batch` in one transaction (not synchronous; see VerificationBatch).
  virtual Status write_verification_batch(const VerificationBatch& batch) = 0;
  // Every stored lock (loaded once at start).
  virtual Result<std::vector<Throttle>> list_throttles() = 0;

  // The fingerprint of the pepper the store was made with (pepper.h), if recorded.
  virtual Result<std::optional<Bytes>> pepper_fingerprint() = 0;
  // Records it (once; a store keeps the first).
  virtual Status set_pepper_fingerprint(const Bytes& fingerprint) = 0;
  // True when the store holds any token, grant or audit entry.
  virtual Result<bool> holds_data() = 0;
};

}  // namespace touchpass::store
