// The module's one exchange with touchpassd: a `verify` request (src/ipc/PROTOCOL.md) with the
// password in the frame's secret part, and its final answer. Everything the daemon sends is
// untrusted, and only one answer counts as acceptance: {"v": 1, "ok": true, ...}. Anything
// else — a refusal, an error, a malformed or cut-off frame, an event, silence — is not.
#pragma once

#include <chrono>
#include <string>

#include "core/secret.h"

namespace touchpass::pam {

// What is verified: a password for `user` at `service`, from `remote` (empty: unknown).
struct VerifyQuery {
  std::string user;
  std::string service;
  std::string remote;
};

struct Verdict {
  enum class Kind {
    accepted,     // the daemon accepted the password
    refused,      // the daemon refused it ("Refused.", never why)
    unavailable,  // no verdict: unreachable, not allowed to ask, broken, silent, or an error
  };
  Kind kind = Kind::unavailable;
  // For the log: why there was no verdict. Never contains the password.
  std::string detail;
};

// The daemon's message for a refused password (its only refusal; it never says why).
inline constexpr std::string_view kRefusedMessage = "Refused.";

// Connects to the Unix stream socket `socket`, sends the query with `password`, and reads the
// final answer. The whole exchange is bounded by `timeout`: a daemon that does not accept the
// connection at once, or does not finish its answer in time, gives Kind::unavailable.
// Precondition: 0 < password.size() <= ipc::kMaxSecretSize.
Verdict verify_with_daemon(const std::string& socket, const VerifyQuery& query,
                           const SecretBytes& password, std::chrono::milliseconds timeout);

}  // namespace touchpass::pam
