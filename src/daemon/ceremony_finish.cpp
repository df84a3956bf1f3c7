// finish: the second half of the issue and show ceremonies. touchpassd checks what the client
// relays from the key (DESIGN.md §2: signature with the stored public key, rp id hash, UP/UV,
// counter, challenge, type, origin; for a YubiKey the rolling proof) before it derives or stores
// anything. A ceremony is taken from the table first, so it is finished at most once, whatever
// the outcome.
#include <algorithm>

#include "core/assertion.h"
#include "core/bytes.h"
#include "core/derivation.h"
#include "core/password.h"
#include "core/rolling_challenge.h"
#include "core/show_proof.h"
#include "core/verifier.h"
#include "daemon/service.h"
#include "daemon/service_support.h"
#include "store/scopes.h"

namespace touchpass::daemon {

namespace {

constexpr std::size_t kHmacSecretBytes = 32;
constexpr std::size_t kOtpResponseBytes = 20;

Error wrong_secret(const std::string& what) {
  return Error{Code::protocol_error, "The finish message must carry " + what + "."};
}

}  // namespace

Result<Service::ProvenSecret> Service::prove_fido2(const CeremonyCandidate& c,
                                                   const std::string& origin,
                                                   const ipc::Finish& finish,
                                                   const SecretBytes& secret) {
  if (secret.size() != kHmacSecretBytes) return wrong_secret("the 32-byte hmac-secret output");
  SignedAssertion assertion{finish.authenticator_data, finish.client_data_json, finish.signature};
  EnrolledCredential credential{c.token.public_key, c.token.rp_id,
                                uv_from_name(c.token.uv) == devices::UserVerification::pin,
                                c.token.sign_count};
  const std::string origins[] = {origin};
  auto data = verify_grant_assertion(c.grant.version, assertion, credential, c.challenge, origins);
  if (!data.ok()) return data.error();
  ProvenSecret out{secret.clone(), store::TokenState(data->sign_count)};
  return out;
}

Result<Service::ProvenSecret> Service::prove_yubikey(const CeremonyCandidate& c,
                                                     const SecretBytes& secret) {
  if (secret.size() != ipc::kYubiKeyFinishSecretBytes) {
    return wrong_secret("the three 20-byte responses of the YubiKey");
  }
  const auto responses = secret.bytes();
  // 1. The enrolled key and slot answered the rolling challenge (DESIGN.md §4.2).
  if (!rolling_response_matches(pepper_.bytes(), responses.first(kOtpResponseBytes),
                                c.token.rolling_hash)) {
    return Error{Code::verification_failed,
                 "This YubiKey does not answer as the one enrolled as \"" + c.token.label +
                     "\" (has its slot been reprogrammed?)."};
  }
  // 2. S; 3. the response to the next rolling challenge, kept as a keyed hash.
  auto next_hash = rolling_response_hash(pepper_.bytes(), responses.subspan(2 * kOtpResponseBytes));
  if (!next_hash.ok()) return next_hash.error();
  ProvenSecret out{SecretBytes::copy_of(responses.subspan(kOtpResponseBytes, kOtpResponseBytes)),
                   store::TokenState(0)};
  out.next.rolling_challenge = c.next_challenge;
  out.next.rolling_hash = std::move(*next_hash);
  out.next.answered_challenge = c.token.rolling_challenge;
  return out;
}

Result<Outcome> Service::finish(const Peer& peer, const ipc::Request& request,
                                const SecretBytes& secret) {
  auto taken = ceremonies_for(peer).take(request.finish.ceremony, peer.uid, peer.pid);
  if (!taken.ok()) return taken.error();
  return complete(peer, *taken, request.finish, secret);
}

Result<Outcome> Service::complete(const Peer& peer, const PendingCeremony& ceremony,
                                  const ipc::Finish& finish, const SecretBytes& secret) {
  if (ceremony.kind == PendingCeremony::Kind::enroll) {
    return complete_enroll(peer, ceremony, finish, secret);
  }
  if (ceremony.kind == PendingCeremony::Kind::signin) {
    return complete_signin(peer, ceremony, finish);
  }
  const bool issuing = ceremony.kind == PendingCeremony::Kind::issue;
  const auto fail = [&](Error e) {
    return audited_failure(peer, issuing ? "issue" : "show", ceremony.user, ceremony.name,
                           std::move(e));
  };
  const CeremonyCandidate* chosen = nullptr;
  for (const auto& c : ceremony.candidates) {
    if (c.grant.credential == finish.credential) chosen = &c;
  }
  if (chosen == nullptr) {
    return fail(Error{Code::verification_failed,
                      "The key answered with a credential this ceremony did not offer."});
  }
  // The token may have been revoked or used since the ceremony began: its answer is checked
  // against the state stored now (counter, rolling challenge), not the one at begin.
  auto token = store_.get_token(chosen->token.id);
  if (!token.ok()) return fail(token.error());
  if (token->revoked) {
    return fail(Error{Code::not_found, "The security key \"" + token->label +
                                           "\" was revoked during the ceremony."});
  }
  if (token->rolling_challenge != chosen->token.rolling_challenge) {
    return fail(Error{Code::verification_failed,
                      "The YubiKey \"" + token->label +
                          "\" was used for something else during the ceremony; try again."});
  }
  CeremonyCandidate current = *chosen;
  current.token = std::move(*token);
  auto proven = current.grant.kind == TokenKind::yubikey
                    ? prove_yubikey(current, secret)
                    : prove_fido2(current, ceremony.origin, finish, secret);
  if (!proven.ok()) return fail(proven.error());
  auto password =
      derive_app_password(current.grant.version, proven->s.bytes(), current.grant.grant_id);
  if (!password.ok()) return fail(password.error());
  auto verifier = verifier_for_typed_password(pepper_.bytes(), password->grouped());
  if (!verifier.ok()) return fail(verifier.error());
  auto done = issuing
                  ? complete_issue(peer, ceremony, current, finish, *proven, *password, *verifier)
                  : complete_show(peer, ceremony, current, finish, *proven, *password, *verifier);
  if (!done.ok() || !ceremony.phone_setup) return done;
  return with_phone_setup(std::move(*done), ceremony);
}

Result<Outcome> Service::complete_issue(const Peer& peer, const PendingCeremony& ceremony,
                                        const CeremonyCandidate& c, const ipc::Finish& finish,
                                        const ProvenSecret& proven, const AppPassword& password,
                                        const Verifier& verifier) {
  const Grant& grant = c.grant;
  store::GrantRecord record;
  record.grant_id.assign(grant.grant_id.bytes().begin(), grant.grant_id.bytes().end());
  record.user = grant.user;
  record.name = grant.name;
  record.scopes = canonical_scopes(grant.scopes);
  record.networks = ceremony.networks;
  record.created = static_cast<store::UnixTime>(grant.created);
  record.expires = static_cast<store::UnixTime>(grant.expires);
  record.token_id = c.token.id;
  record.kind = c.token.kind;
  record.credential = grant.credential;
  record.version = grant.version;
  record.rp_id = grant.rp_id;
  record.verifier = Bytes(verifier.bytes().begin(), verifier.bytes().end());
  if (grant.kind == TokenKind::fido2) {
    record.proof_auth_data = finish.authenticator_data;
    record.proof_signature = finish.signature;
    record.proof_client_data.assign(finish.client_data_json.begin(), finish.client_data_json.end());
  }
  store::AuditEvent event = audit(peer, "issue", grant.user, grant.name);
  event.detail = "grant " + to_hex(record.grant_id);
  if (!record.proof_signature.empty()) event.detail += " proof " + to_hex(record.proof_signature);
  if (!record.networks.empty()) event.detail += " from " + store::join_scopes(record.networks);
  if (Status s = store_.add_grant(record, proven.next, event); !s.ok()) {
    if (s.error().code == Code::invalid_argument || s.error().code == Code::internal) {
      if (store_.find_grant(grant.user, grant.name).ok()) {
        return audited_failure(
            peer, "issue", grant.user, grant.name,
            Error{Code::invalid_argument, "An app password named \"" + grant.name +
                                              "\" was issued meanwhile; choose another name."});
      }
    }
    return audited_failure(peer, "issue", grant.user, grant.name, s.error());
  }
  return Outcome{{{"grant", grant_json(record, c.token.label)}}, password_secret(password)};
}

Result<Outcome> Service::complete_show(const Peer& peer, const PendingCeremony& ceremony,
                                       const CeremonyCandidate& c, const ipc::Finish& finish,
                                       const ProvenSecret& proven, const AppPassword& password,
                                       const Verifier& verifier) {
  const auto fail = [&](Error e) {
    return audited_failure(peer, "show", ceremony.user, ceremony.name, std::move(e));
  };
  auto record = store_.find_grant(ceremony.user, ceremony.name);
  if (!record.ok()) return fail(record.error());
  auto stored = Verifier::from_bytes(record->verifier);
  const auto id = c.grant.grant_id.bytes();
  const bool same_grant =
      std::equal(record->grant_id.begin(), record->grant_id.end(), id.begin(), id.end());
  if (!stored.ok() || !(verifier == *stored) || !same_grant) {
    return fail(Error{Code::verification_failed,
                      "This security key gives a different password for \"" + ceremony.name +
                          "\". Is it the key the password was issued with?"});
  }
  // FIDO2: the grant, the nonce and what the key signed over them, so that `log --verify` can
  // check this show later (core/show_proof.h). A YubiKey signs nothing: the nonce only.
  store::AuditEvent event = audit(peer, "show", ceremony.user, ceremony.name);
  if (c.grant.kind == TokenKind::fido2) {
    auto detail = encode_show_proof({c.grant.grant_id, ceremony.nonce, finish.authenticator_data,
                                     finish.client_data_json, finish.signature});
    if (!detail.ok()) return fail(detail.error());
    event.detail = std::move(*detail);
  } else {
    event.detail = "nonce " + to_hex(ceremony.nonce);
  }
  if (Status s = store_.update_token_state(c.token.id, proven.next, event); !s.ok()) {
    return fail(s.error());
  }
  return Outcome{{{"grant", grant_json(*record, c.token.label)}}, password_secret(password)};
}

}  // namespace touchpass::daemon
