// enroll-begin and its finish: the enroll ceremony (DESIGN.md §2). touchpassd never opens the
// key: the client creates the credential (FIDO2) or proves the slot (YubiKey) and relays the
// result, which touchpassd verifies — the attestation with its signature, the rp id, the flags
// and hmac-secret — before it stores the token. Also `tokens`.
#include <algorithm>

#include "core/attestation.h"
#include "core/bytes.h"
#include "core/random.h"
#include "core/rolling_challenge.h"
#include "daemon/service.h"
#include "daemon/service_support.h"
#include "ipc/ceremony.h"

namespace touchpass::daemon {

using ipc::Json;

namespace {

constexpr std::size_t kUserIdBytes = 16;
constexpr std::size_t kEnrollChallengeBytes = 32;

// What the client says the key is: shown in listings only, so made printable and short.
std::string device_text(const std::string& reported, const std::string& fallback) {
  if (reported.empty() || !validate_label(reported).ok()) return fallback;
  return utf8_prefix(reported, kMaxLabelBytes);
}

// A user's issue, show and sign-in offer every one of their keys, and an offer lists at most
// ipc::kMaxOfferedCredentials: one key more would lock the user out.
Status room_for_another_key(const std::string& user, std::size_t enrolled) {
  if (enrolled < ipc::kMaxOfferedCredentials) return Status::success();
  return Error{Code::invalid_argument,
               "\"" + user + "\" has " + std::to_string(enrolled) +
                   " security keys enrolled, the most touchpass offers at once; revoke one "
                   "(touchpass revoke --token LABEL) before enrolling another."};
}

}  // namespace

Result<Outcome> Service::enroll_begin(const Peer& peer, const Target& target,
                                      const ipc::Request& request, const Bytes& invitation_hash,
                                      bool first_key) {
  const auto fail = [&](Error e) {
    return audited_failure(peer, "enroll", target.user, request.label, std::move(e));
  };
  if (peer.via_web && request.kind != TokenKind::fido2) {
    // A browser reaches FIDO2 keys only; a YubiKey's slot would be a secret typed into the page.
    return fail(
        Error{Code::invalid_argument, "On the web, only FIDO2 security keys are enrolled."});
  }
  if (!request.label.empty()) {
    if (Status s = validate_label(request.label); !s.ok()) return fail(s.error());
  }
  auto enrolled = store_.list_tokens(target.user, false);
  if (!enrolled.ok()) return fail(enrolled.error());
  if (Status s = room_for_another_key(target.user, enrolled->size()); !s.ok()) {
    return fail(s.error());
  }
  PendingCeremony ceremony;
  ceremony.kind = PendingCeremony::Kind::enroll;
  ceremony.user = target.user;
  ceremony.name = request.label;
  PendingEnrollment& e = ceremony.enrollment;
  e.label = request.label;
  ipc::EnrollOffer offer;
  offer.expires_in = ceremonies_for(peer).lifetime().count();
  if (request.kind == TokenKind::yubikey) {
    e.kind = TokenKind::yubikey;
    e.slot = request.slot == 1 ? YubiKeySlot::one : YubiKeySlot::two;
    e.user_verification = false;
    auto rolling = random_bytes(64);
    if (!rolling.ok()) return fail(rolling.error());
    e.rolling_challenge = std::move(*rolling);
    offer.kind = TokenKind::yubikey;
    offer.slot = request.slot == 1 ? 1 : 2;
    offer.program = request.program;
    offer.force = request.force;
    offer.rolling_challenge = e.rolling_challenge;
  } else {
    const std::string uv = request.uv.value_or("pin");
    if (uv == "presence" && config_.uv == UvPolicy::required) {
      return fail(Error{Code::invalid_argument,
                        "This system requires a PIN for every security key (uv = required in "
                        "touchpassd.conf); enroll without --no-pin."});
    }
    e.user_verification = uv != "presence";
    auto user_id = random_bytes(kUserIdBytes);
    auto challenge = random_bytes(kEnrollChallengeBytes);
    if (!user_id.ok()) return fail(user_id.error());
    if (!challenge.ok()) return fail(challenge.error());
    e.challenge = *challenge;
    const RelyingParty rp = relying_party(peer);
    e.rp_id = rp.rp_id;
    offer.rp_id = rp.rp_id;
    offer.rp_name = "touchpass";
    offer.user_id = std::move(*user_id);
    offer.user_name = target.user;
    offer.origin = rp.origin;
    offer.challenge = std::move(*challenge);
    offer.user_verification = e.user_verification;
  }
  own(ceremony, peer);
  if (!invitation_hash.empty() || first_key) {
    e.invitation_hash = invitation_hash;
    e.first_key = first_key;
    ceremony.session_bound = false;
  }
  auto id = ceremonies_for(peer).add(std::move(ceremony));
  if (!id.ok()) return fail(id.error());
  offer.ceremony = std::move(*id);
  return Outcome{offer.to_json(), {}};
}

Result<store::TokenRecord> Service::enrolled_fido2(const PendingCeremony& ceremony,
                                                   const ipc::Finish& finish) {
  const PendingEnrollment& e = ceremony.enrollment;
  AttestationStatement statement{finish.attestation_format, finish.authenticator_data,
                                 finish.signature, finish.attestation_certificate,
                                 finish.client_data_json};
  const std::string origins[] = {ceremony.origin};
  AttestationExpectation expected{
      e.rp_id, {kClientDataCreate, e.challenge, origins}, e.user_verification};
  auto attested = verify_attestation(statement, expected);
  if (!attested.ok()) return attested.error();
  if (attested->credential_id != finish.credential) {
    return Error{Code::verification_failed,
                 "The finish names another credential than the key created."};
  }
  store::TokenRecord record;
  record.kind = TokenKind::fido2;
  record.credential = attested->credential_id;
  record.rp_id = e.rp_id;
  record.algorithm = kCoseAlgEs256;
  record.public_key = attested->public_key.raw();
  record.uv = e.user_verification ? "pin" : "presence";
  record.sign_count = attested->sign_count;
  record.aaguid.assign(attested->aaguid.begin(), attested->aaguid.end());
  record.attestation_format = attested->format;
  record.attestation_x5c = finish.attestation_certificate;
  record.device = device_text(finish.device, "security key");
  record.is_virtual = finish.virtual_token;
  return record;
}

Result<store::TokenRecord> Service::enrolled_yubikey(const PendingEnrollment& e,
                                                     const ipc::Finish& finish,
                                                     const SecretBytes& secret) {
  auto credential = parse_yubikey_credential(finish.credential);
  if (!credential.ok()) return credential.error();
  if (credential->slot != e.slot || credential->serial == 0) {
    return Error{Code::verification_failed,
                 "The finish names another YubiKey slot than the ceremony asked for."};
  }
  if (secret.size() != 20) {
    return Error{Code::protocol_error,
                 "The finish message must carry the YubiKey's 20-byte response."};
  }
  auto hash = rolling_response_hash(pepper_.bytes(), secret.bytes());
  if (!hash.ok()) return hash.error();
  const int slot_number = e.slot == YubiKeySlot::one ? 1 : 2;
  const std::string serial = std::to_string(credential->serial);
  store::TokenRecord record;
  record.kind = TokenKind::yubikey;
  record.credential = finish.credential;
  record.uv = "presence";
  record.attestation_format = "none";
  record.device = device_text(finish.device, "YubiKey") + " #" + serial + " slot " +
                  std::to_string(slot_number);
  record.rolling_challenge = e.rolling_challenge;
  record.rolling_hash = std::move(*hash);
  if (e.label.empty()) record.label = "YubiKey " + serial + " slot " + std::to_string(slot_number);
  return record;
}

Result<Outcome> Service::complete_enroll(const Peer& peer, const PendingCeremony& ceremony,
                                         const ipc::Finish& finish, const SecretBytes& secret) {
  const auto fail = [&](Error e) {
    return audited_failure(peer, "enroll", ceremony.user, ceremony.name, std::move(e));
  };
  const PendingEnrollment& e = ceremony.enrollment;
  auto made = e.kind == TokenKind::yubikey ? enrolled_yubikey(e, finish, secret)
                                           : enrolled_fido2(ceremony, finish);
  if (!made.ok()) return fail(made.error());
  store::TokenRecord record = std::move(*made);
  record.user = ceremony.user;
  record.created = clock_();

  // A label the user gave must be free; a default one gets a number when taken.
  auto existing = store_.list_tokens(ceremony.user, false);
  if (!existing.ok()) return fail(existing.error());
  const auto taken = [&](const std::string& l) {
    return std::any_of(existing->begin(), existing->end(),
                       [&](const store::TokenRecord& t) { return t.label == l; });
  };
  if (Status s = room_for_another_key(ceremony.user, existing->size()); !s.ok()) {
    return fail(s.error());
  }
  if (e.first_key && !existing->empty()) {
    return fail(Error{
        Code::permission_denied,
        "A security key was enrolled for \"" + ceremony.user + "\" meanwhile; sign in with it."});
  }
  if (std::any_of(existing->begin(), existing->end(), [&](const store::TokenRecord& t) {
        return t.kind == record.kind && t.credential == record.credential;
      })) {
    return fail(Error{Code::invalid_argument, "This credential is enrolled already."});
  }
  if (!e.label.empty()) {
    record.label = e.label;
  } else if (record.label.empty()) {
    record.label = utf8_prefix(record.device, kMaxLabelBytes - 4);
  }
  if (e.label.empty()) {
    const std::string base = record.label;
    for (int n = 2; taken(record.label); ++n) record.label = base + " " + std::to_string(n);
  }
  const store::AuditEvent entry = audit(peer, "enroll", ceremony.user, record.label);
  if (e.invitation_hash.empty()) {
    auto id = store_.add_token(record, entry);
    if (!id.ok()) return fail(id.error());
    record.id = *id;
    if (!e.first_key) return Outcome{{{"token", token_json(record)}}, {}};
  } else {
    // Through the web with an invitation: the invitation is spent, and the user is signed in.
    auto id = store_.add_invited_token(record, e.invitation_hash, record.created, entry);
    if (!id.ok()) return fail(id.error());
    record.id = *id;
  }
  auto session = web_sessions_.open(ceremony.user);
  if (!session.ok()) return session.error();
  auto opened = web_sessions_.use(session->bytes());
  if (!opened.ok()) return opened.error();
  return Outcome{{{"token", token_json(record)},
                  {"user", ceremony.user},
                  {"expires", opened->expires},
                  {"session", true}},
                 std::move(*session)};
}

Result<Outcome> Service::tokens(const Target& target) {
  auto list = store_.list_tokens(target.all_users ? "" : target.user, false);
  if (!list.ok()) return list.error();
  Json out = Json::array();
  for (const auto& t : *list) out.push_back(token_json(t));
  return Outcome{{{"tokens", out}}, {}};
}

}  // namespace touchpass::daemon
