// Service: touchpassd's request handlers — the policy between a client (already identified by
// its peer credentials) and the store. It never opens a key: every key operation is a ceremony
// whose result it verifies (DESIGN.md §2). One Service serves every connection
// concurrently; each call is independent. The handlers are defined by concern:
//   service.cpp         dispatch, who acts on whom, auditing
//   enrollment.cpp      enroll-begin and the enroll finish (FIDO2 and YubiKey), tokens
//   issuance.cpp        issue-begin, show-begin: the offers of the issue and show ceremonies
//   ceremony_finish.cpp finish: what the key produced checked, then the grant stored or shown
//   administration.cpp  list, unlock, revoke, rename, log
//   invitations.cpp     invite
//   gateway.cpp         touchpass-web's requests: sign-in, sessions, and web users' requests
//
// Who may do what (DESIGN.md §2, property 3): a user acts on their own tokens and grants;
// root and members of the admin group act on anyone's (`user` field); a refused request is
// answered permission_denied and audited. touchpass-web (a member of the gateway group) acts
// for nobody on its own: a web user signs in with a ceremony touchpassd verifies, and then
// acts on their own tokens and grants through the session (PROTOCOL.md, "touchpass-web").
#pragma once

#include <functional>
#include <optional>

#include "client/interaction.h"
#include "core/grant.h"
#include "core/password.h"
#include "core/secret.h"
#include "core/verifier.h"
#include "daemon/audit_budget.h"
#include "daemon/ceremonies.h"
#include "daemon/config.h"
#include "daemon/peer.h"
#include "daemon/phone_setups.h"
#include "daemon/refusal_log.h"
#include "daemon/throttle.h"
#include "daemon/verification_recorder.h"
#include "daemon/verify_handler.h"
#include "daemon/web_sessions.h"
#include "ipc/messages.h"
#include "store/admin_store.h"
#include "store/verification_store.h"

namespace touchpass::daemon {

// The final answer to one request: the JSON result, and for issue and show the password.
struct Outcome {
  ipc::Json result = ipc::Json::object();
  SecretBytes secret;
};

class Service {
 public:
  using Clock = std::function<store::UnixTime()>;

  // All references must outlive the service. The handlers of tokens, grants and the log use
  // `store`; `verify` requests use only `verification` (the same store, or a verify-only one).
  // `pepper` is the verifier key (32 bytes); `sleep` delays the answer to a refused
  // verification.
  Service(const Config& config, store::AdminStore& store, store::VerificationStore& verification,
          Throttle& throttle, RefusalLog& refusals, VerificationRecorder& recorder,
          SecretBytes pepper, Clock clock, VerifyHandler::Sleep sleep);

  // Handles one request from `peer`; `secret` is the frame's
  // secret part (the password of a verify request).
  Result<Outcome> handle(const Peer& peer, const ipc::Request& request, const SecretBytes& secret);

 private:
  // Whose tokens and grants a request acts on.
  struct Target {
    std::string user;        // the user acted on
    bool all_users = false;  // listings: everyone (admins only)
  };

  Result<Target> target_of(const Peer& peer, const ipc::Request& request);

  // touchpass-web's requests (gateway.cpp).
  Result<Outcome> handle_gateway(const Peer& gateway, const ipc::Request& request,
                                 const SecretBytes& secret);
  Result<Outcome> signin_begin(const Peer& gateway, const ipc::Request& request);
  // enroll-begin with an invitation (its code in `secret`), for the invitation's user.
  // A first key with the account password (first_key.cpp).
  Result<Outcome> password_enroll_begin(const Peer& gateway, const ipc::Request& request,
                                        const SecretBytes& password);
  Result<Outcome> invited_enroll_begin(const Peer& gateway, const ipc::Request& request,
                                       const SecretBytes& secret);
  Result<Outcome> gateway_finish(const Peer& gateway, const ipc::Request& request,
                                 const SecretBytes& secret);
  Result<Outcome> complete_signin(const Peer& web, const PendingCeremony& ceremony,
                                  const ipc::Finish& finish);
  // The ceremonies of web users and of everyone else are held apart, so that neither can crowd
  // out the other; web sign-ins, which anyone may begin, are held apart from both.
  CeremonyTable& ceremonies_for(const Peer& peer);

  // `invitation_hash`: enrolled with that invitation (the enrollment consumes it; the ceremony is
  // bound to no session); `first_key`: with the account password. Either way through the web,
  // opening a session at the finish.
  Result<Outcome> enroll_begin(const Peer& peer, const Target& target, const ipc::Request& request,
                               const Bytes& invitation_hash = {}, bool first_key = false);
  Result<Outcome> tokens(const Target& target);
  Result<Outcome> issue_begin(const Peer& peer, const Target& target, const ipc::Request& request);
  Result<Outcome> show_begin(const Peer& peer, const Target& target, const ipc::Request& request);
  // Checks what the client relays for a begun ceremony and completes it. `secret` is S
  // (ipc::Finish).
  Result<Outcome> finish(const Peer& peer, const ipc::Request& request, const SecretBytes& secret);
  // Completes a ceremony taken from the table.
  Result<Outcome> complete(const Peer& peer, const PendingCeremony& ceremony,
                           const ipc::Finish& finish, const SecretBytes& secret);
  Result<Outcome> list(const Target& target);
  // The services app passwords may be scoped to (config: service.NAME), for anyone to read.
  Outcome services() const;
  Result<Outcome> revoke(const Peer& peer, const Target& target, const ipc::Request& request);
  Result<Outcome> rename(const Peer& peer, const Target& target, const ipc::Request& request);
  // `verify`: the hash chain (the whole log, under the store's write lock) for root and the
  // admin group only; the proofs of the target's grants and shows for anyone.
  Result<Outcome> log(const Peer& peer, const Target& target, const ipc::Request& request);
  // A one-time invitation for the target to enroll a first key through touchpass-web.
  Result<Outcome> invite(const Peer& peer, const Target& target, const ipc::Request& request);
  // Lifts locks of sources (admins only).
  Result<Outcome> unlock(const Peer& peer, const ipc::Request& request);

  // The ceremony candidate of `token` for `grant` (its kind, credential and rp id filled in):
  // the challenge its key must sign (an issue's, or a show's with `nonce`) or, for a YubiKey, the
  // next rolling challenge.
  Result<CeremonyCandidate> candidate(const store::TokenRecord& token, Grant grant,
                                      std::span<const std::uint8_t> nonce);
  // The relying party a ceremony for `peer` is held with: touchpassd's own rp id (which is also
  // the origin a local client names), or for a web user the web origin and its host.
  struct RelyingParty {
    std::string rp_id;
    std::string origin;
  };
  RelyingParty relying_party(const Peer& peer) const;
  // Gives `ceremony` its owner (`peer`) and origin.
  void own(PendingCeremony& ceremony, const Peer& peer) const;
  // Opens `ceremony` for `peer` and answers its offer.
  Result<Outcome> offer(const Peer& peer, PendingCeremony ceremony);
  // S as the key proved it, and the token's state after the ceremony.
  struct ProvenSecret {
    SecretBytes s;
    store::TokenState next;
  };
  // `origin`: what the client data must name (the ceremony's).
  Result<ProvenSecret> prove_fido2(const CeremonyCandidate& c, const std::string& origin,
                                   const ipc::Finish& finish, const SecretBytes& secret);
  Result<ProvenSecret> prove_yubikey(const CeremonyCandidate& c, const SecretBytes& secret);
  Result<Outcome> complete_issue(const Peer& peer, const PendingCeremony& ceremony,
                                 const CeremonyCandidate& c, const ipc::Finish& finish,
                                 const ProvenSecret& proven, const AppPassword& password,
                                 const Verifier& verifier);
  Result<Outcome> complete_show(const Peer& peer, const PendingCeremony& ceremony,
                                const CeremonyCandidate& c, const ipc::Finish& finish,
                                const ProvenSecret& proven, const AppPassword& password,
                                const Verifier& verifier);
  // The token an enroll ceremony's finish proves (not yet stored), or why not.
  Result<store::TokenRecord> enrolled_fido2(const PendingCeremony& ceremony,
                                            const ipc::Finish& finish);
  Result<store::TokenRecord> enrolled_yubikey(const PendingEnrollment& e, const ipc::Finish& finish,
                                              const SecretBytes& secret);
  Result<Outcome> complete_enroll(const Peer& peer, const PendingCeremony& ceremony,
                                  const ipc::Finish& finish, const SecretBytes& secret);

  // Phone setup (phone_setup.cpp). Whether `request` may ask for a phone setup: invalid_argument
  // without a web_origin.
  Status phone_setup_possible(const ipc::Request& request) const;
  // `done` (a completed issue or show) with its password kept for a phone and the link to it
  // in `phone_setup` (or the reason there is none in `phone_setup_error`).
  Outcome with_phone_setup(Outcome done, const PendingCeremony& ceremony);
  // touchpass-web takes the setup of `token` (once): {user, name, scopes, expires} and the
  // password. not_found when the token is unknown, used or expired.
  Result<Outcome> take_phone_setup(const Peer& gateway, const ipc::Request& request,
                                   const SecretBytes& token);

  store::AuditEvent audit(const Peer& peer, std::string action, const std::string& user,
                          std::string object) const;
  // Audits a failed request and passes its error on: an entry of its own within the actor's
  // AuditBudget, counted in the RefusalLog's batches past it.
  Error audited_failure(const Peer& peer, const std::string& action, const std::string& user,
                        const std::string& object, Error error);

  const Config& config_;
  store::AdminStore& store_;
  Throttle& throttle_;
  RefusalLog& refusals_;
  VerificationRecorder& recorder_;
  SecretBytes pepper_;
  Clock clock_;
  VerifyHandler::Sleep sleep_;  // delays the answer to a refused account password
  VerifyHandler verify_;
  CeremonyTable ceremonies_;
  CeremonyTable web_ceremonies_;
  CeremonyTable signin_ceremonies_;
  AuditBudget audit_budget_;  // failures itemized in the audit log, per actor
  WebSessions web_sessions_;
  PhoneSetups phone_setups_;
};

}  // namespace touchpass::daemon
