// touchpass-web's requests (service.h, PROTOCOL.md "touchpass-web"). The gateway acts for nobody
// on its own: it may begin and finish a web user's sign-in, whose assertion touchpassd verifies
// before it opens a session; every other request carries a session token in its secret part
// and is handled as a request of that user — on their own tokens and grants only, with the web
// origin as the relying party.
#include "core/assertion.h"
#include "core/invitation_code.h"
#include "core/random.h"
#include "daemon/service.h"
#include "daemon/service_support.h"

namespace touchpass::daemon {

namespace {

constexpr std::size_t kSigninChallengeBytes = 32;
constexpr std::size_t kUnusedSaltBytes = 32;

}  // namespace

Result<Outcome> Service::handle_gateway(const Peer& gateway, const ipc::Request& request,
                                        const SecretBytes& secret) {
  if (!config_.web_origin) {
    return Error{Code::permission_denied,
                 "touchpassd has no web_origin in touchpassd.conf, so touchpass-web may relay "
                 "nothing."};
  }
  switch (request.op) {
    case ipc::Op::signin_begin:
      return signin_begin(gateway, request);
    case ipc::Op::finish:
      return gateway_finish(gateway, request, secret);
    case ipc::Op::phone_setup:
      return take_phone_setup(gateway, request, secret);
    case ipc::Op::enroll_begin:
      if (request.invitation) return invited_enroll_begin(gateway, request, secret);
      if (request.account_password) return password_enroll_begin(gateway, request, secret);
      break;
    case ipc::Op::verify:
    case ipc::Op::unlock:
    case ipc::Op::invite:
    case ipc::Op::devices:
      return Error{Code::permission_denied, "touchpass-web may not ask for \"" +
                                                std::string(ipc::op_name(request.op)) + "\"."};
    default:
      break;
  }
  auto session = web_sessions_.use(secret.bytes());
  if (!session.ok()) return session.error();
  if (request.op == ipc::Op::session) {
    return Outcome{{{"user", session->user}, {"expires", session->expires}}, {}};
  }
  if (request.op == ipc::Op::signout) {
    web_sessions_.close(secret.bytes());
    return Outcome{};
  }
  if ((request.user && *request.user != session->user) || request.all_users) {
    return Error{Code::permission_denied,
                 "On the web you act on your own security keys and app passwords only."};
  }
  ipc::Request own_request = request;
  own_request.user.reset();
  return handle(web_peer(gateway, session->user), own_request, SecretBytes());
}

Result<Outcome> Service::signin_begin(const Peer& gateway, const ipc::Request& request) {
  const std::string& user = *request.user;
  auto tokens = store_.list_tokens(user, false);
  if (!tokens.ok()) return tokens.error();
  PendingCeremony ceremony;
  ceremony.kind = PendingCeremony::Kind::signin;
  ceremony.user = user;
  // One challenge for every credential: a browser asks the keys with one challenge and the
  // whole allow list, and the user touches whichever key they have.
  auto challenge = random_bytes(kSigninChallengeBytes);
  if (!challenge.ok()) return challenge.error();
  for (const store::TokenRecord& token : *tokens) {
    if (token.kind != TokenKind::fido2) continue;  // a YubiKey's OTP proves no origin
    CeremonyCandidate c;
    c.token = token;
    c.token.attestation_x5c.clear();  // not needed, and anyone can make many of these
    c.grant.version = kGrantVersionV2;
    c.grant.kind = TokenKind::fido2;
    c.grant.credential = token.credential;
    c.grant.rp_id = token.rp_id;
    c.challenge = *challenge;
    ceremony.candidates.push_back(std::move(c));
  }
  if (ceremony.candidates.empty()) {
    return Error{Code::not_found, "No security key that can sign in here is enrolled for \"" +
                                      user + "\"; ask for an invitation."};
  }
  const Peer web = web_peer(gateway, user);
  own(ceremony, web);
  ceremony.session_bound = false;
  ipc::CeremonyOffer o;
  o.expires_in = signin_ceremonies_.lifetime().count();
  o.origin = ceremony.origin;
  for (const auto& c : ceremony.candidates) o.credentials.push_back(offered_credential(c));
  // The offer's format asks a FIDO2 key for a secret too; a sign-in's is never used.
  auto salt = random_bytes(kUnusedSaltBytes);
  auto prf = random_bytes(kUnusedSaltBytes);
  if (!salt.ok()) return salt.error();
  if (!prf.ok()) return prf.error();
  o.salt = std::move(*salt);
  o.prf_input = std::move(*prf);
  auto id = signin_ceremonies_.add(std::move(ceremony));
  if (!id.ok()) return id.error();
  o.ceremony = std::move(*id);
  return Outcome{o.to_json(), {}};
}

Result<Outcome> Service::invited_enroll_begin(const Peer& gateway, const ipc::Request& request,
                                              const SecretBytes& secret) {
  // Counted, not audited one by one: anyone on the web can try a code.
  const auto refuse = [&](Error e) {
    refusals_.refused({static_cast<std::int64_t>(gateway.uid), "touchpass-web"}, "invitation", "",
                      "", "touchpass-web", e.message, clock_());
    return e;
  };
  auto hash = invitation_code_hash(secret.view());
  if (!hash.ok()) return refuse(hash.error());
  auto invitation = store_.find_invitation(*hash);
  if (!invitation.ok() && invitation.code() == Code::not_found) {
    return refuse(Error{Code::not_found,
                        "This invitation is not known; check the code or ask for a new one."});
  }
  if (!invitation.ok()) return invitation.error();
  if (invitation->used) {
    return refuse(
        Error{Code::invalid_argument, "This invitation has been used already; ask for a new one."});
  }
  if (clock_() >= invitation->expires) {
    return refuse(Error{Code::invalid_argument, "This invitation has expired; ask for a new one."});
  }
  if (request.kind != TokenKind::fido2) {
    return Error{Code::invalid_argument, "On the web, only FIDO2 security keys are enrolled."};
  }
  if (request.user && *request.user != invitation->user) {
    return Error{Code::permission_denied, "This invitation is for another user."};
  }
  return enroll_begin(web_peer(gateway, invitation->user), Target{invitation->user, false}, request,
                      *hash);
}

Result<Outcome> Service::gateway_finish(const Peer& gateway, const ipc::Request& request,
                                        const SecretBytes& secret) {
  // The secret part is always a session slot (the token, or zeros without a session) followed
  // by the ceremony's own secret: touchpass-web need not know how the ceremony began.
  const auto bytes = secret.bytes();
  if (bytes.size() < kWebSessionTokenBytes) {
    return Error{Code::protocol_error,
                 "A finish from touchpass-web starts with a 32-byte session slot."};
  }
  const auto session_slot = bytes.first(kWebSessionTokenBytes);
  SecretBytes own = SecretBytes::copy_of(bytes.subspan(kWebSessionTokenBytes));
  auto taken = web_ceremonies_.take(request.finish.ceremony, gateway.uid, gateway.pid);
  if (!taken.ok() && taken.code() == Code::not_found) {
    taken = signin_ceremonies_.take(request.finish.ceremony, gateway.uid, gateway.pid);
  }
  if (!taken.ok()) return taken.error();
  if (!taken->session_bound) {
    return complete(web_peer(gateway, taken->web_user), *taken, request.finish, own);
  }
  // Begun in a session: finished only in the same user's session.
  auto session = web_sessions_.use(session_slot);
  if (!session.ok()) return session.error();
  if (session->user != taken->web_user) {
    return Error{Code::permission_denied, "This ceremony was begun by another user."};
  }
  return complete(web_peer(gateway, taken->web_user), *taken, request.finish, own);
}

Result<Outcome> Service::complete_signin(const Peer& web, const PendingCeremony& ceremony,
                                         const ipc::Finish& finish) {
  // Counted, not audited one by one: anyone on the web can fail a sign-in.
  const auto refuse = [&](Error e) {
    refusals_.refused({static_cast<std::int64_t>(web.uid), "touchpass-web"}, "signin",
                      ceremony.user, "", "touchpass-web", e.message, clock_());
    return e;
  };
  const CeremonyCandidate* chosen = nullptr;
  for (const auto& c : ceremony.candidates) {
    if (c.grant.credential == finish.credential) chosen = &c;
  }
  if (chosen == nullptr) {
    return refuse(Error{Code::verification_failed,
                        "The key answered with a credential this sign-in did not offer."});
  }
  auto token = store_.get_token(chosen->token.id);
  if (!token.ok()) return token.error();
  if (token->revoked) {
    return refuse(Error{Code::not_found, "The security key \"" + token->label +
                                             "\" was revoked during the sign-in."});
  }
  const SignedAssertion assertion{finish.authenticator_data, finish.client_data_json,
                                  finish.signature};
  const EnrolledCredential credential{token->public_key, token->rp_id,
                                      uv_from_name(token->uv) == devices::UserVerification::pin,
                                      token->sign_count};
  const std::string origins[] = {ceremony.origin};
  auto data = verify_grant_assertion(chosen->grant.version, assertion, credential,
                                     chosen->challenge, origins);
  if (!data.ok()) return refuse(data.error());
  auto session = web_sessions_.open(ceremony.user);
  if (!session.ok()) return session.error();
  store::AuditEvent entry = audit(web, "signin", ceremony.user, token->label);
  entry.detail = "through touchpass-web";
  if (Status s = store_.update_token_state(token->id, store::TokenState(data->sign_count), entry);
      !s.ok()) {
    web_sessions_.close(session->bytes());
    return s.error();
  }
  auto opened = web_sessions_.use(session->bytes());
  if (!opened.ok()) return opened.error();
  return Outcome{{{"user", ceremony.user}, {"expires", opened->expires}, {"session", true}},
                 std::move(*session)};
}

}  // namespace touchpass::daemon
