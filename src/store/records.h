// The store's records: enrolled tokens, grants (app passwords), the audit log and what
// verification learns. The store is two interfaces over the same data (DESIGN.md §7):
// VerificationStore (verification_store.h), all a verify-only host needs, and AdminStore
// (admin_store.h) for tokens, grants, the audit log and integrity.
//
// The interfaces assume no particular database (DESIGN.md §7: SQLite now, PostgreSQL where one
// machine is outgrown). Every mutating call is one transaction that includes its audit entry:
// either all of it is stored, durably, or none of it. Nothing secret is ever stored: grants keep
// only their verifier (HMAC-SHA-256 under a pepper kept outside the store).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/grant.h"

namespace touchpass::store {

// Seconds since the Unix epoch. The store never reads a clock: callers pass the time.
using UnixTime = std::int64_t;

// One enrolled token credential.
struct TokenRecord {
  std::int64_t id = 0;  // assigned by the store
  std::string user;     // owner (Unix user name)
  std::string label;    // the owner's name for it, unique among the owner's active tokens
  TokenKind kind = TokenKind::fido2;
  Bytes credential;   // FIDO2 credential id, or YubiKey serial (4 bytes, big endian) || slot
  std::string rp_id;  // FIDO2 only
  int algorithm = 0;  // COSE algorithm; FIDO2 only
  Bytes public_key;   // FIDO2 only
  std::string uv;     // "pin" or "presence"
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
// challenge (left as they are when empty). The store records it only over the state the use
// was checked against, so two uses that raced cannot move a counter back or replay a rolling
// challenge: the counter must move forward from the stored one (or both be 0), and a new
// rolling challenge replaces only `answered_challenge`.
struct TokenState {
  std::uint32_t sign_count = 0;
  Bytes rolling_challenge;
  Bytes rolling_hash;
  Bytes answered_challenge;  // YubiKey: the rolling challenge this use answered
  TokenState(std::uint32_t count = 0) : sign_count(count) {}  // NOLINT: implicit by design
};

// A one-time invitation to enroll a first key through touchpass-web (DESIGN.md §6). The code
// itself is never stored: only its hash (core/invitation_code.h).
struct InvitationRecord {
  std::int64_t id = 0;  // assigned by the store
  std::string user;     // whose key it enrolls
  Bytes code_hash;      // invitation_code_hash of the code (32 bytes)
  UnixTime created = 0;
  UnixTime expires = 0;          // it is refused from this time on
  std::string created_by;        // the user (or admin) who made it
  std::optional<UnixTime> used;  // when a key was enrolled with it
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
  // The networks it may be used from (core/source_networks.h: canonical, sorted); empty =
  // anywhere. Not in the grant encoding; in the row's MAC. Grants before schema v10 have none.
  std::vector<std::string> networks;
  UnixTime created = 0;
  UnixTime expires = 0;  // 0 = never
  std::int64_t token_id = 0;
  TokenKind kind = TokenKind::fido2;  // as in the grant encoding
  Bytes credential;                   // as in the grant encoding
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
  std::string key;  // the source (or, in a shared store, "user:" and a user name)
  int failures = 0;
  UnixTime last_failure = 0;
  UnixTime locked_until = 0;  // 0: not locked (the entry is then removed)
};

// How a shared store counts attempts and failures (VerificationStore::reserve_attempt).
struct FailureRule {
  int limit = 0;               // failures that lock the key; 0: it is never locked
  std::int64_t lockout = 900;  // seconds a lock lasts, and after which a run of failures ends
  // Seconds after which the attempts a key has under evaluation are taken for abandoned (their
  // host stopped before it ended them), counted from the newest.
  std::int64_t abandoned_after = 30;
};

// The answer to VerificationStore::reserve_attempt.
struct Reservation {
  bool admitted = false;  // reserved: evaluate it, then end_attempt
  Throttle state;         // the key's count and lock (as they were, when not admitted)
  // False when the store accepts no writes now (a read-only standby): nothing was reserved,
  // and the caller counts this attempt in memory as a host of its own would.
  bool shared = true;
};

// What verification learned in the last few seconds, written in one transaction that is not
// synchronous: a power cut may lose the last seconds of it, never anything issued or revoked.
struct VerificationBatch {
  std::vector<Usage> usages;        // last use of grants
  std::vector<Throttle> throttles;  // locks to keep (locked_until > 0) or remove (0)
  std::vector<AuditEvent> audits;   // aggregated refusals and lockouts
  UnixTime now = 0;                 // locks that ended before this are removed
  // Unlocked failure counts (shared stores) whose last failure is this old or older go too.
  UnixTime forget_before = 0;
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

}  // namespace touchpass::store
