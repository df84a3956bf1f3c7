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
    refused,      // the daemon refused it (error code `refused`; never says why)
    unavailable,  // no verdict: unreachable, not allowed to ask, broken, silent, or an error
  };
  Kind kind = Kind::unavailable;
  // For the log: why there was no verdict. Never contains the password.
  std::string detail;
};

// Connects to the Unix stream socket `socket`, checks who listens on it, sends the query with
// `password`, and reads the final answer. The password goes only to a listener the kernel
// (SO_PEERCRED) says runs as root or as `daemon_user` (looked up on every call; when there is
// no such user, only root): anyone else gives Kind::unavailable, naming the uid that answered,
// and nothing is sent. The whole exchange is bounded by `timeout`: a daemon that does not
// accept the connection at once, or does not finish its answer in time, gives
// Kind::unavailable. Precondition: 0 < password.size() <= ipc::kMaxSecretSize.
Verdict verify_with_daemon(const std::string& socket, const std::string& daemon_user,
                           const VerifyQuery& query, const SecretBytes& password,
                           std::chrono::milliseconds timeout);

}  // namespace touchpass::pam
