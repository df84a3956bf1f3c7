// Service: touchpassd's request handlers — the policy between a client (already identified by
// its peer credentials) and the store and the tokens. One Service serves every connection
// concurrently; each call is independent. The handlers are defined by concern:
//   service.cpp         dispatch, who acts on whom, auditing
//   enrollment.cpp      devices, enroll (FIDO2 and YubiKey), tokens
//   grant_secrets.cpp   the token's secret S for a grant (FIDO2 assertion, YubiKey rolling proof)
//   issuance.cpp        issue, show
//   administration.cpp  list, unlock, revoke, rename, log
//
// Who may do what (DESIGN.md §2, property 3): a user acts on their own tokens and grants;
// root and members of the admin group act on anyone's (`user` field); a refused request is
// answered permission_denied and audited.
#pragma once

#include <functional>
#include <optional>

#include "core/grant.h"
#include "core/secret.h"
#include "daemon/config.h"
#include "daemon/interaction.h"
#include "daemon/peer.h"
#include "daemon/refusal_log.h"
#include "daemon/throttle.h"
#include "daemon/token_broker.h"
#include "daemon/verification_recorder.h"
#include "daemon/verify_handler.h"
#include "ipc/messages.h"
#include "store/store.h"

namespace touchpass::daemon {

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
  Result<Outcome> issue(const Peer& peer, const Target& target, const ipc::Request& request,
                        Interaction& io);
  Result<Outcome> show(const Peer& peer, const Target& target, const ipc::Request& request,
                       Interaction& io);
  Result<Outcome> list(const Target& target);
  Result<Outcome> revoke(const Peer& peer, const Target& target, const ipc::Request& request);
  Result<Outcome> rename(const Peer& peer, const Target& target, const ipc::Request& request);
  Result<Outcome> log(const Target& target, const ipc::Request& request);
  // Lifts locks of sources (admins only).
  Result<Outcome> unlock(const Peer& peer, const ipc::Request& request);

  // Asks the client for the token's PIN (need-pin with the tries left).
  Result<SecretBytes> ask_pin(devices::Token& token, Interaction& io);
  // The user's one active FIDO2 token to use for a new grant.
  Result<store::TokenRecord> token_for_issue(const std::string& user);
  // Runs the FIDO2 assertion of DESIGN.md §5.2 for `token` with the given clientDataHash.
  // The tokens of `kind` that `peer` may use (see may_access); for YubiKeys optionally only the
  // one with `serial`.
  TokenBroker::Usable usable_by(const Peer& peer, TokenKind kind, std::uint32_t serial = 0) const;
  // The token's secret S for `grant` (DESIGN.md §5 steps 2 and 3), the token's next state and,
  // for FIDO2, the signed proof.
  struct TokenSecret {
    SecretBytes s;
    store::TokenState next;
    Bytes proof_auth_data;
    Bytes proof_signature;
  };
  Result<TokenSecret> token_secret(const Peer& peer, const store::TokenRecord& token,
                                   const Grant& grant, const Bytes& client_data_hash,
                                   Interaction& io);
  Result<TokenSecret> yubikey_secret(const Peer& peer, const store::TokenRecord& token,
                                     const Grant& grant, Interaction& io);
  Result<Outcome> enroll_yubikey(const Peer& peer, const Target& target,
                                 const ipc::Request& request, Interaction& io);
  Result<devices::Assertion> assert_for_grant(const Peer& peer, const store::TokenRecord& token,
                                              const Bytes& client_data_hash, const Bytes& salt,
                                              Interaction& io);

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
};

}  // namespace touchpass::daemon
