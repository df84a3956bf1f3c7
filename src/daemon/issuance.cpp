#include "daemon/service.h"

#include "core/bytes.h"
#include "core/derivation.h"
#include "core/grant.h"
#include "core/password.h"
#include "core/random.h"
#include "core/rolling_challenge.h"
#include "core/verifier.h"
#include "daemon/log.h"
#include "daemon/service_support.h"

namespace touchpass::daemon {

using ipc::Json;

Result<Outcome> Service::issue(const Peer& peer, const Target& target, const ipc::Request& request,
                               Interaction& io) {
  const auto fail = [&](Error e) {
    return audited_failure(peer, "issue", target.user, request.name, std::move(e));
  };
  auto token = token_for_issue(target.user);
  if (!token.ok()) return fail(token.error());
  auto grant_id_bytes = random_bytes(GrantId::kSize);
  if (!grant_id_bytes.ok()) return fail(grant_id_bytes.error());
  auto grant_id = GrantId::from_bytes(*grant_id_bytes);
  if (!grant_id.ok()) return fail(grant_id.error());

  const store::UnixTime now = clock_();
  if (request.expires != 0 && request.expires <= now) {
    return fail(Error{Code::invalid_argument, "The expiry date is in the past."});
  }
  Grant grant;
  grant.grant_id = *grant_id;
  grant.user = target.user;
  grant.name = request.name;
  grant.scopes = request.scopes;
  grant.created = static_cast<std::uint64_t>(now);
  grant.expires = static_cast<std::uint64_t>(request.expires);
  grant.kind = token->kind == "yubikey" ? TokenKind::yubikey : TokenKind::fido2;
  grant.credential = token->credential;
  if (Status s = validate_grant(grant); !s.ok()) return fail(s.error());
  if (store_.find_grant(target.user, request.name).ok()) {
    return fail(Error{Code::invalid_argument, "An app password named \"" + request.name +
                                                  "\" already exists; choose another name or "
                                                  "revoke the old one first."});
  }

  auto cdh = grant_challenge(grant.version, encode_grant(grant));
  if (!cdh.ok()) return fail(cdh.error());
  auto secret = token_secret(peer, *token, grant, Bytes(cdh->begin(), cdh->end()), io);
  if (!secret.ok()) return fail(secret.error());
  auto password = derive_app_password(grant.version, secret->s.bytes(), grant.grant_id);
  if (!password.ok()) return fail(password.error());
  auto verifier = verifier_for_typed_password(pepper_.bytes(), password->grouped());
  if (!verifier.ok()) return fail(verifier.error());

  store::GrantRecord record;
  record.grant_id = *grant_id_bytes;
  record.user = grant.user;
  record.name = grant.name;
  record.scopes = canonical_scopes(grant.scopes);
  record.created = now;
  record.expires = request.expires;
  record.token_id = token->id;
  record.kind = token->kind;
  record.credential = grant.credential;
  record.version = grant.version;
  record.rp_id = grant.rp_id;
  record.verifier = Bytes(verifier->bytes().begin(), verifier->bytes().end());
  record.proof_auth_data = secret->proof_auth_data;
  record.proof_signature = secret->proof_signature;
  store::AuditEvent event = audit(peer, "issue", target.user, request.name);
  event.detail = "grant " + to_hex(record.grant_id);
  if (!record.proof_signature.empty()) event.detail += " proof " + to_hex(record.proof_signature);
  if (Status s = store_.add_grant(record, secret->next, event); !s.ok()) {
    return fail(s.error());
  }
  return Outcome{{{"grant", grant_json(record, token->label)}}, password_secret(*password)};
}

Result<Outcome> Service::show(const Peer& peer, const Target& target, const ipc::Request& request,
                              Interaction& io) {
  const auto fail = [&](Error e) {
    return audited_failure(peer, "show", target.user, request.name, std::move(e));
  };
  auto record = store_.find_grant(target.user, request.name);
  if (!record.ok()) return fail(record.error());
  auto token = store_.get_token(record->token_id);
  if (!token.ok()) return fail(token.error());
  if (token->revoked) {
    return fail(Error{Code::not_found, "The security key of \"" + request.name +
                                           "\" has been revoked; issue a new password."});
  }
  auto grant = grant_of(*record);
  if (!grant.ok()) return fail(grant.error());
  auto nonce = random_bytes(kShowNonceMinBytes);
  if (!nonce.ok()) return fail(nonce.error());
  auto cdh = show_challenge(grant->version, encode_grant(*grant), *nonce);
  if (!cdh.ok()) return fail(cdh.error());
  auto secret = token_secret(peer, *token, *grant, Bytes(cdh->begin(), cdh->end()), io);
  if (!secret.ok()) return fail(secret.error());
  auto password = derive_app_password(grant->version, secret->s.bytes(), grant->grant_id);
  if (!password.ok()) return fail(password.error());
  auto verifier = verifier_for_typed_password(pepper_.bytes(), password->grouped());
  auto stored = Verifier::from_bytes(record->verifier);
  if (!verifier.ok() || !stored.ok() || !(*verifier == *stored)) {
    return fail(Error{Code::verification_failed,
                      "This security key gives a different password for \"" + request.name +
                          "\". Is it the key the password was issued with?"});
  }
  if (Status s = store_.update_token_state(token->id, secret->next,
                                           audit(peer, "show", target.user, request.name));
      !s.ok()) {
    return fail(s.error());
  }
  return Outcome{{{"grant", grant_json(*record, token->label)}}, password_secret(*password)};
}

}  // namespace touchpass::daemon
