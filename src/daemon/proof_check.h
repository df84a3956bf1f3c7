// proof_check: what `touchpass log --verify` re-verifies beyond the audit log's hash chain
// (DESIGN.md §5): the stored proof of every FIDO2 grant — the key's signature over the grant's
// challenge — checked with the public key enrolled for the grant's token. A record changed
// outside touchpassd, or a proof copied from another grant, is counted and named.
#pragma once

#include <string>

#include "core/status.h"
#include "ipc/messages.h"
#include "store/admin_store.h"

namespace touchpass::daemon {

// How many failures a report names; it counts all of them (the answer must fit a frame).
inline constexpr int kMaxItemizedProofErrors = 50;

// What the check of the grants' proofs found.
struct GrantProofReport {
  int checked = 0;  // FIDO2 grants, revoked ones included (a YubiKey signs nothing)
  int failed = 0;
  ipc::Json errors = ipc::Json::array();  // [{"user", "name", "error"}] of the first failures
};

// Re-verifies the proof of every FIDO2 grant of `user` (everyone's when `user` is empty) that
// `store` holds, under the name the grant was issued with (its issue entry in the audit log
// names it: a rename changes the record, not what the key signed). A proof that does not verify is
// counted and itemized, not an error: the result is an error only when the store cannot be read (or
// OpenSSL fails).
Result<GrantProofReport> check_grant_proofs(store::AdminStore& store, const std::string& user);

}  // namespace touchpass::daemon
