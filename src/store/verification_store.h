// VerificationStore: what verification reads and writes (DESIGN.md §7) — the look-up of a grant
// by its verifier, the batch of what verification learned (last use, source locks, aggregated
// refusals) and the stored locks. It is all a verify-only host needs, and all that the verify
// path of touchpassd (verify_handler, verification_recorder, throttle) may use: nothing here
// issues, revokes or reads the audit log.
#pragma once

#include <optional>
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
};

}  // namespace touchpass::store
