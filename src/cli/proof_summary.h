// proof_summary: what `touchpass log --verify` says of the proofs touchpassd re-verified with the
// enrolled keys (PROTOCOL.md, `log`): every FIDO2 app password's and every FIDO2 show's. Text
// from the daemon is untrusted and made printable before it reaches the terminal.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "ipc/messages.h"

namespace touchpass::cli {

struct ProofSummary {
  std::int64_t grants_checked = 0;
  std::int64_t grants_failed = 0;
  ipc::Json grant_errors = ipc::Json::array();  // [{"user", "name", "error"}], the first ones
  std::int64_t shows_checked = 0;
  std::int64_t shows_failed = 0;
  std::int64_t shows_unchecked = 0;            // audited before show proofs were kept
  ipc::Json show_errors = ipc::Json::array();  // [{"user", "name", "seq", "error"}]

  // True when any proof did not verify (counted or named).
  bool failed() const;
};

// The summary a `log` answer with `verify` carries. protocol_error naming the first field that
// is missing or of the wrong type.
Result<ProofSummary> read_proof_summary(const ipc::Json& result);

// One line per named failure ("The proof of …", "The proof of the show of …"), then "… and N
// more." where more failed than are named. Empty when nothing failed.
std::string proof_failure_lines(const ProofSummary& summary);

// The sentence that ends a failed check: how many app passwords and shows have a proof that does
// not verify. Precondition: summary.failed().
std::string proof_failure_sentence(const ProofSummary& summary);

// What a check in which every proof verified says: how many app passwords and shows, and the
// shows from before show proofs, which could not be checked.
std::string proof_success_lines(const ProofSummary& summary);

}  // namespace touchpass::cli
