// issue-begin and show-begin: the first half of the issue and show ceremonies (DESIGN.md §2,
// §5). touchpassd decides what every allowed key must sign and answer, keeps it in the ceremony
// table, and hands the client an offer; finish (ceremony_finish.cpp) checks what came back.
#include "core/bytes.h"
#include "core/derivation.h"
#include "core/grant.h"
#include "core/random.h"
#include "core/source_networks.h"
#include "daemon/service.h"
#include "daemon/service_support.h"

namespace touchpass::daemon {

Result<CeremonyCandidate> Service::candidate(const store::TokenRecord& token, Grant grant,
                                             std::span<const std::uint8_t> nonce) {
  CeremonyCandidate c;
  grant.kind = token.kind;
  grant.credential = token.credential;
  if (grant.kind == TokenKind::yubikey) {
    if (token.rolling_challenge.size() != 64) {
      return Error{Code::internal,
                   "The YubiKey \"" + token.label + "\" has no rolling challenge; re-enroll it."};
    }
    auto next = random_bytes(64);
    if (!next.ok()) return next.error();
    c.next_challenge = std::move(*next);
  }
  if (grant.kind == TokenKind::fido2 && grant.version != kGrantVersionV1) {
    grant.rp_id = token.rp_id;
  }
  if (Status s = validate_grant(grant); !s.ok()) return s.error();
  if (grant.kind == TokenKind::fido2) {
    const Bytes encoded = encode_grant(grant);
    auto challenge = nonce.empty() ? grant_challenge(grant.version, encoded)
                                   : show_challenge(grant.version, encoded, nonce);
    if (!challenge.ok()) return challenge.error();
    c.challenge.assign(challenge->begin(), challenge->end());
  }
  c.token = token;
  c.grant = std::move(grant);
  return c;
}

Result<Outcome> Service::offer(const Peer& peer, PendingCeremony ceremony) {
  const Grant& grant = ceremony.candidates.front().grant;
  ipc::CeremonyOffer o;
  o.expires_in = ceremonies_for(peer).lifetime().count();
  own(ceremony, peer);
  o.origin = ceremony.origin;
  for (const auto& c : ceremony.candidates) {
    o.credentials.push_back(offered_credential(c));
    if (c.grant.kind == TokenKind::fido2 && o.salt.empty()) {
      auto salt = hmac_salt(grant.version, grant.grant_id);
      if (!salt.ok()) return salt.error();
      o.salt.assign(salt->begin(), salt->end());
      if (grant.version != kGrantVersionV1) o.prf_input = prf_input(grant.grant_id);
    }
    if (c.grant.kind == TokenKind::yubikey && o.yubikey_challenge.empty()) {
      auto challenge = yubikey_challenge(grant.version, grant.grant_id);
      if (!challenge.ok()) return challenge.error();
      o.yubikey_challenge.assign(challenge->begin(), challenge->end());
    }
  }
  auto id = ceremonies_for(peer).add(std::move(ceremony));
  if (!id.ok()) return id.error();
  o.ceremony = std::move(*id);
  return Outcome{o.to_json(), {}};
}

Result<Outcome> Service::issue_begin(const Peer& peer, const Target& target,
                                     const ipc::Request& request) {
  const auto fail = [&](Error e) {
    return audited_failure(peer, "issue", target.user, request.name, std::move(e));
  };
  auto tokens = store_.list_tokens(target.user, false);
  if (!tokens.ok()) return fail(tokens.error());
  if (tokens->empty()) {
    return fail(Error{Code::not_found,
                      target.user == peer.user
                          ? "You have no security key enrolled. Run `touchpass enroll` first."
                          : "The user \"" + target.user + "\" has no security key enrolled."});
  }
  if (Status possible = phone_setup_possible(request); !possible.ok()) {
    return fail(possible.error());
  }
  const store::UnixTime now = clock_();
  if (request.expires != 0 && request.expires <= now) {
    return fail(Error{Code::invalid_argument, "The expiry date is in the past."});
  }
  auto networks = canonical_source_networks(request.networks);
  if (!networks.ok()) return fail(networks.error());
  if (store_.find_grant(target.user, request.name).ok()) {
    return fail(Error{Code::invalid_argument, "An app password named \"" + request.name +
                                                  "\" already exists; choose another name or "
                                                  "revoke the old one first."});
  }
  auto grant_id_bytes = random_bytes(GrantId::kSize);
  if (!grant_id_bytes.ok()) return fail(grant_id_bytes.error());
  auto grant_id = GrantId::from_bytes(*grant_id_bytes);
  if (!grant_id.ok()) return fail(grant_id.error());
  Grant grant;
  grant.version = kGrantVersion;
  grant.grant_id = *grant_id;
  grant.user = target.user;
  grant.name = request.name;
  auto scopes = resolve_scopes(config_.mail_services(), request.scopes, request.every_service);
  if (!scopes.ok()) return fail(scopes.error());
  grant.scopes = std::move(*scopes);
  grant.created = static_cast<std::uint64_t>(now);
  grant.expires = static_cast<std::uint64_t>(request.expires);

  PendingCeremony ceremony;
  ceremony.kind = PendingCeremony::Kind::issue;
  ceremony.user = target.user;
  ceremony.name = request.name;
  ceremony.phone_setup = request.phone_setup;
  ceremony.networks = std::move(*networks);
  // Every active credential of the user (WebAuthn's allow list): the key that answers decides
  // which one the grant is bound to. Never another user's credential, even for an admin.
  for (const auto& token : *tokens) {
    auto c = candidate(token, grant, {});
    if (!c.ok()) return fail(c.error());
    ceremony.candidates.push_back(std::move(*c));
  }
  auto out = offer(peer, std::move(ceremony));
  if (!out.ok()) return fail(out.error());
  return out;
}

Outcome Service::services() const {
  ipc::Json services = ipc::Json::array();
  for (const MailService& s : config_.mail_services()) {
    services.push_back({{"name", s.name}, {"description", s.description}});
  }
  return Outcome{{{"services", std::move(services)}}, {}};
}

Result<Outcome> Service::show_begin(const Peer& peer, const Target& target,
                                    const ipc::Request& request) {
  const auto fail = [&](Error e) {
    return audited_failure(peer, "show", target.user, request.name, std::move(e));
  };
  if (Status possible = phone_setup_possible(request); !possible.ok()) {
    return fail(possible.error());
  }
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
  auto c = candidate(*token, std::move(*grant), *nonce);
  if (!c.ok()) return fail(c.error());
  PendingCeremony ceremony;
  ceremony.kind = PendingCeremony::Kind::show;
  ceremony.user = target.user;
  ceremony.name = request.name;
  ceremony.phone_setup = request.phone_setup;
  ceremony.nonce = std::move(*nonce);
  ceremony.candidates.push_back(std::move(*c));
  auto out = offer(peer, std::move(ceremony));
  if (!out.ok()) return fail(out.error());
  return out;
}

}  // namespace touchpass::daemon
