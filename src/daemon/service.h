// Service: touchpassd's request handlers — the policy between a client (already identified by
// its peer credentials) and the store and the tokens. One Service serves every connection
// concurrently; each call is independent. The handlers are defined by concern:
//   service.cpp         dispatch, who acts on whom, auditing
//   enrollment.cpp      devices, enroll (FIDO2 and YubiKey), tokens
//   issuance.cpp        issue-begin, show-begin: the offers of the issue and show ceremonies
//   ceremony_finish.cpp finish: what the key produced checked, then the grant stored or shown
//   administration.cpp  list, unlock, revoke, rename, log
//
// Who may do what (DESIGN.md §2, property 3): a user acts on their own tokens and grants;
// root and members of the admin group act on anyone's (`user` field); a refused request is
// answered permission_denied and audited.
#pragma once

#include <functional>
#include <optional>

#include "client/interaction.h"
#include "client/token_broker.h"
#include "core/grant.h"
#include "core/password.h"
#include "core/secret.h"
#include "core/verifier.h"
#include "daemon/ceremonies.h"
#include "daemon/config.h"
#include "daemon/peer.h"
#include "daemon/refusal_log.h"
#include "daemon/throttle.h"
#include "daemon/verification_recorder.h"
#include "daemon/verify_handler.h"
#include "ipc/messages.h"
#include "store/store.h"

namespace touchpass::daemon {

// Enrollment still opens the key in the daemon, through the client library's broker.
using client::Interaction;
using client::TokenBroker;
using client::WatchScope;

// The final answer to one request: the JSON result, and for issue and show the password.
struct Outcome {
  ipc::Json result = ipc::Json::object();
  SecretBytes secret;
};

class Service {
 public:
  using Clock = std::function<store::UnixTime()>;

  // All references must outlive the service. `pepper` is the verifier key (32 bytes); `sleep`
  // delays the answer to a refused verification.
  Service(const Config& config, store::Store& store, TokenBroker& broker, Throttle& throttle,
          RefusalLog& refusals, VerificationRecorder& recorder, SecretBytes pepper, Clock clock,
          VerifyHandler::Sleep sleep);

  // Handles one request from `peer`. Interactive requests use `io`; `secret` is the frame's
  // secret part (the password of a verify request).
  Result<Outcome> handle(const Peer& peer, const ipc::Request& request, Interaction& io,
                         const SecretBytes& secret);

 private:
  // Whose tokens and grants a request acts on.
  struct Target {
    std::string user;        // the user acted on
    bool all_users = false;  // listings: everyone (admins only)
  };

  Result<Target> target_of(const Peer& peer, const ipc::Request& request);

  Result<Outcome> devices();
  Result<Outcome> enroll(const Peer& peer, const Target& target, const ipc::Request& request,
                         Interaction& io);
  Result<Outcome> tokens(const Target& target);
  Result<Outcome> issue_begin(const Peer& peer, const Target& target, const ipc::Request& request);
  Result<Outcome> show_begin(const Peer& peer, const Target& target, const ipc::Request& request);
  // Checks what the client relays for a begun ceremony and completes it. `secret` is S
  // (ipc::Finish).
  Result<Outcome> finish(const Peer& peer, const ipc::Request& request, const SecretBytes& secret);
  Result<Outcome> list(const Target& target);
  Result<Outcome> revoke(const Peer& peer, const Target& target, const ipc::Request& request);
  Result<Outcome> rename(const Peer& peer, const Target& target, const ipc::Request& request);
  Result<Outcome> log(const Target& target, const ipc::Request& request);
  // Lifts locks of sources (admins only).
  Result<Outcome> unlock(const Peer& peer, const ipc::Request& request);

  // Asks the client for the token's PIN (need-pin with the tries left).
  Result<SecretBytes> ask_pin(devices::Token& token, Interaction& io);
  // The tokens of `kind` that `peer` may use (see may_access); for YubiKeys optionally only the
  // one with `serial`. (Enrollment still opens the key in the daemon.)
  TokenBroker::Usable usable_by(const Peer& peer, TokenKind kind, std::uint32_t serial = 0) const;
  // The ceremony candidate of `token` for `grant` (its kind, credential and rp id filled in):
  // the challenge its key must sign (an issue's, or a show's with `nonce`) or, for a YubiKey, the
  // next rolling challenge.
  Result<CeremonyCandidate> candidate(const store::TokenRecord& token, Grant grant,
                                      std::span<const std::uint8_t> nonce);
  // Opens `ceremony` for `peer` and answers its offer.
  Result<Outcome> offer(const Peer& peer, PendingCeremony ceremony);
  // S as the key proved it, and the token's state after the ceremony.
  struct ProvenSecret {
    SecretBytes s;
    store::TokenState next;
  };
  Result<ProvenSecret> prove_fido2(const CeremonyCandidate& c, const ipc::Finish& finish,
                                   const SecretBytes& secret);
  Result<ProvenSecret> prove_yubikey(const CeremonyCandidate& c, const SecretBytes& secret);
  Result<Outcome> complete_issue(const Peer& peer, const CeremonyCandidate& c,
                                 const ipc::Finish& finish, const ProvenSecret& proven,
                                 const AppPassword& password, const Verifier& verifier);
  Result<Outcome> complete_show(const Peer& peer, const PendingCeremony& ceremony,
                                const CeremonyCandidate& c, const ipc::Finish& finish,
                                const ProvenSecret& proven, const AppPassword& password,
                                const Verifier& verifier);
  Result<Outcome> enroll_yubikey(const Peer& peer, const Target& target,
                                 const ipc::Request& request, Interaction& io);

  // log --verify: every FIDO2 grant's stored proof (the key's signature over the grant's
  // challenge, DESIGN.md §5) re-verified with the enrolled public key; `user` empty: everyone's.
  static constexpr int kMaxItemizedProofErrors = 50;
  struct ProofCheck {
    int checked = 0;
    int failed = 0;
    ipc::Json errors;  // [{"user", "name", "error"}] of the first failed proofs, at most 50
  };
  Result<ProofCheck> check_grant_proofs(const std::string& user);

  store::AuditEvent audit(const Peer& peer, std::string action, const std::string& user,
                          std::string object) const;
  // Audits a failed request and passes its error on.
  Error audited_failure(const Peer& peer, const std::string& action, const std::string& user,
                        const std::string& object, Error error);

  const Config& config_;
  store::Store& store_;
  TokenBroker& broker_;
  Throttle& throttle_;
  RefusalLog& refusals_;
  VerificationRecorder& recorder_;
  SecretBytes pepper_;
  Clock clock_;
  VerifyHandler verify_;
  CeremonyTable ceremonies_;
};

}  // namespace touchpass::daemon
