// VerificationStore: what verification reads and writes (DESIGN.md §7) — the look-up of a grant
// by its verifier, the batch of what verification learned (last use, source locks, aggregated
// refusals) and the stored locks. It is all a verify-only host needs, and all that the verify
// path of touchpassd (verify_handler, verification_recorder, throttle) may use: nothing here
// issues, revokes or reads the audit log.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "store/records.h"

namespace touchpass::store {

class VerificationStore {
 public:
  virtual ~VerificationStore() = default;

  // The grant with this verifier, if any, revoked or not; it never waits for a writer. Only
  // the fields verification needs and the row's MAC covers are filled: every field but the
  // proofs (proof_*) and the usage (last_used, last_service, last_remote). `intact` is false
  // when the row's MAC does not match, its token kind is unknown (neither fido2 nor yubikey),
  // or the store has no keys yet.
  virtual Result<std::optional<GrantRecord>> find_grant_by_verifier(const Bytes& verifier) = 0;

  // Writes `batch` in one transaction (not synchronous; see VerificationBatch).
  virtual Status write_verification_batch(const VerificationBatch& batch) = 0;

  // Every stored lock (loaded once at start).
  virtual Result<std::vector<Throttle>> list_throttles() = 0;

  // Attempts and failures that several hosts share. A store that several hosts use
  // (PostgreSQL) shares_throttles(): verification then counts them here (throttle.h) rather
  // than in memory. Keys are sources, or "user:" and a user name.
  virtual bool shares_throttles() const = 0;
  // Reserves one attempt of `key` at `now`, atomically with every other host: admitted only
  // while the key is not locked and its failures plus the attempts under evaluation (on any
  // host) stay below `rule.limit`. A run of failures whose last is `rule.lockout` old, or a
  // lock that has ended, starts over. Not admitted: the state says whether it is locked
  // (locked_until > now) or only full (wait for an attempt to end, and ask again). A store that
  // accepts no writes now (a read-only standby) answers shared = false: count it in memory.
  virtual Result<Reservation> reserve_attempt(const std::string& key, UnixTime now,
                                              const FailureRule& rule) = 0;
  // Ends an attempt (reserved or not: a key without one is left at none) and, when `failed`,
  // counts its failure, locking the key until now + rule.lockout when that reaches
  // `rule.limit`. The key's state after.
  virtual Result<Throttle> end_attempt(const std::string& key, UnixTime now, bool failed,
                                       const FailureRule& rule) = 0;
  // The key's state as stored (failures 0 when there is none).
  virtual Result<Throttle> throttle_state(const std::string& key) = 0;
  // Removes the counts and locks of `keys`, or every one when `keys` is empty.
  virtual Status forget_throttles(const std::vector<std::string>& keys) = 0;
};

}  // namespace touchpass::store
