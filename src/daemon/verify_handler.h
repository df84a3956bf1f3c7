// VerifyHandler: the `verify` request (DESIGN.md §5.4) — the part of touchpassd that faces the
// network through the mail server. (user, typed password, service, remote) → accepted, or the
// error `refused` that never says why (the audit log does, aggregated by RefusalLog). Only
// verifiers (root and the service group) may ask. Brute force is stopped per source by the
// Throttle, checked and counted before the password is evaluated; the store is read on its
// own connections and every write is batched by the VerificationRecorder, so a verification
// never waits for a disk write.
#pragma once

#include <chrono>
#include <functional>
#include <optional>

#include "core/secret.h"
#include "core/status.h"
#include "core/verifier.h"
#include "daemon/peer.h"
#include "daemon/refusal_log.h"
#include "daemon/throttle.h"
#include "daemon/verification_recorder.h"
#include "ipc/messages.h"
#include "store/verification_store.h"

namespace touchpass::daemon {

class VerifyHandler {
 public:
  using Clock = std::function<store::UnixTime()>;
  using Sleep = std::function<void(std::chrono::milliseconds)>;

  struct Settings {
    int ipv6_prefix = 64;       // IPv6 sources are grouped by this prefix
    std::string service_group;  // named in the error for callers who may not verify
  };

  // All references must outlive the handler; `pepper` is the verifier key. `sleep` delays a
  // refusal's answer (the real one blocks the calling session's thread only).
  VerifyHandler(store::VerificationStore& store, Throttle& throttle, RefusalLog& refusals,
                VerificationRecorder& recorder, const SecretBytes& pepper, Settings settings,
                Clock clock, Sleep sleep);

  // Verifies `password` for `request.user` at `request.service` from `request.remote`.
  // Errors: refused (any reason, the same sentence); permission_denied for a caller who is
  // not a verifier; io_error when the store cannot be read (no verdict: PAM answers
  // "authentication information unavailable").
  Status verify(const Peer& peer, const ipc::Request& request, const SecretBytes& password);

 private:
  store::VerificationStore& store_;
  Throttle& throttle_;
  RefusalLog& refusals_;
  VerificationRecorder& recorder_;
  std::optional<VerifierKey> key_;  // from the pepper; empty if it could not be prepared
  Settings settings_;
  Clock clock_;
  Sleep sleep_;
};

}  // namespace touchpass::daemon
