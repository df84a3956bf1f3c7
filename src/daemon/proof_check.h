// proof_check: what `touchpass log --verify` re-verifies beyond the audit log's hash chain
// (DESIGN.md §5, core/derivation.h): the proof of every FIDO2 grant — the key's signature over
// the grant's challenge — and of every FIDO2 show — the key's signature over the show's
// challenge, kept in the show's audit entry (core/show_proof.h) — each with the public key, rp
// id and user verification enrolled for the grant's token. A record or entry changed outside
// touchpassd, or a proof copied from another grant or show, is counted and named. The hash chain
// and the rows' MACs catch such changes too, unless the store's keys were stolen with the file;
// a signature cannot be made without the security key.
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

// What the check of the shows' proofs found.
struct ShowProofReport {
  int checked = 0;    // successful shows whose audit entry holds a show proof
  int failed = 0;     // of those checked
  int unchecked = 0;  // successful FIDO2 shows audited before show proofs were kept
  // [{"user", "name", "seq", "error"}] of the first failures: the audit entry's user, object
  // (the name the grant was shown under) and sequence number.
  ipc::Json errors = ipc::Json::array();
};

struct ProofReport {
  GrantProofReport grants;
  ShowProofReport shows;
};

// Re-verifies, from what `store` holds, the proofs of `user`'s grants and shows (everyone's when
// `user` is empty):
//  - every FIDO2 grant, revoked ones included, under the name it was issued with (its issue
//    entry in the audit log names it: a rename changes the record, not what the key signed);
//  - every successful show whose audit entry (of `user` as the owner) holds a show proof: the
//    grant it names by id, revoked or renamed since or not, under the name it was shown with
//    (the entry's object), and the nonce it keeps give the show challenge the key must have
//    signed. Entries written before show proofs (a nonce and a bare signature) are counted
//    unchecked; a YubiKey show (a nonce only) is not counted.
// A proof that does not verify is counted and itemized, not an error: the result is an error
// only when the store cannot be read (or OpenSSL fails).
Result<ProofReport> check_proofs(store::AdminStore& store, const std::string& user);

}  // namespace touchpass::daemon
