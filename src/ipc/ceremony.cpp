#include "ipc/ceremony.h"

#include "ipc/json_fields.h"

namespace touchpass::ipc {

namespace {

using fields::opt_bool;
using fields::opt_bytes;
using fields::opt_int;
using fields::opt_string;
using fields::protocol;
using fields::req_bytes;
using fields::req_string;

constexpr std::size_t kMaxRpIdBytes = 255;
constexpr std::size_t kMaxLabelBytes = 256;

// The fields every offer starts with, both required: the ceremony's id and how long it stays
// open.
Status read_head(const Json& j, Bytes& ceremony, std::int64_t& expires_in) {
  auto id = req_bytes(j, "ceremony", kCeremonyIdBytes, kCeremonyIdBytes);
  if (!id.ok()) return id.error();
  ceremony = std::move(*id);
  auto expires = opt_int(j, "expires_in", 1, 86400);
  if (!expires.ok()) return expires.error();
  // 0 means absent: an offer without it would serialize (to_json) into one no parse accepts.
  if (*expires == 0) return protocol("\"expires_in\" is required.");
  expires_in = *expires;
  return Status::success();
}

Result<TokenKind> read_kind(const Json& j) {
  auto text = req_string(j, "kind");
  if (!text.ok()) return text.error();
  const auto kind = token_kind_from_name(*text);
  if (!kind) return protocol("\"kind\" must be \"fido2\" or \"yubikey\".");
  return *kind;
}

void put_bytes(Json& j, const char* key, const Bytes& bytes) {
  if (!bytes.empty()) j[key] = to_base64url(bytes);
}

Json credential_json(const OfferedCredential& c) {
  Json j = {{"kind", token_kind_name(c.kind)},
            {"token", c.token},
            {"credential", to_base64url(c.credential)}};
  if (c.kind == TokenKind::fido2) {
    j["rp_id"] = c.rp_id;
    j["uv"] = c.user_verification;
    j["public_key"] = to_base64url(c.public_key);
    j["sign_count"] = c.sign_count;
    put_bytes(j, "challenge", c.challenge);
    put_bytes(j, "client_data_hash", c.client_data_hash);
  } else {
    j["rolling_challenge"] = to_base64url(c.rolling_challenge);
    j["next_challenge"] = to_base64url(c.next_challenge);
  }
  return j;
}

Result<OfferedCredential> parse_credential(const Json& j) {
  if (!j.is_object()) return protocol("Every offered credential must be an object.");
  OfferedCredential c;
  auto kind = read_kind(j);
  if (!kind.ok()) return kind.error();
  c.kind = *kind;
  auto token = req_string(j, "token", kMaxLabelBytes);
  if (!token.ok()) return token.error();
  c.token = std::move(*token);
  auto credential = req_bytes(j, "credential", 1, kMaxCredentialIdBytes);
  if (!credential.ok()) return credential.error();
  c.credential = std::move(*credential);
  if (c.kind == TokenKind::yubikey) {
    auto rolling = req_bytes(j, "rolling_challenge", 64, 64);
    if (!rolling.ok()) return rolling.error();
    auto next = req_bytes(j, "next_challenge", 64, 64);
    if (!next.ok()) return next.error();
    c.rolling_challenge = std::move(*rolling);
    c.next_challenge = std::move(*next);
    return c;
  }
  auto rp_id = req_string(j, "rp_id", kMaxRpIdBytes);
  if (!rp_id.ok()) return rp_id.error();
  c.rp_id = std::move(*rp_id);
  auto uv = opt_bool(j, "uv");
  if (!uv.ok()) return uv.error();
  c.user_verification = *uv;
  auto key = req_bytes(j, "public_key", 64, 64);
  if (!key.ok()) return key.error();
  c.public_key = std::move(*key);
  auto count = opt_int(j, "sign_count", 0, UINT32_MAX);
  if (!count.ok()) return count.error();
  c.sign_count = static_cast<std::uint32_t>(*count);
  auto challenge = opt_bytes(j, "challenge", 32, 32);
  if (!challenge.ok()) return challenge.error();
  auto hash = opt_bytes(j, "client_data_hash", 32, 32);
  if (!hash.ok()) return hash.error();
  if (challenge->empty() == hash->empty()) {
    return protocol(
        "A FIDO2 credential needs exactly one of \"challenge\" or "
        "\"client_data_hash\".");
  }
  c.challenge = std::move(*challenge);
  c.client_data_hash = std::move(*hash);
  return c;
}

}  // namespace

Json CeremonyOffer::to_json() const {
  Json list = Json::array();
  for (const auto& c : credentials) list.push_back(credential_json(c));
  Json j = {{"ceremony", to_base64url(ceremony)},
            {"expires_in", expires_in},
            {"credentials", std::move(list)}};
  if (!origin.empty()) j["origin"] = origin;
  put_bytes(j, "salt", salt);
  put_bytes(j, "prf_input", prf_input);
  put_bytes(j, "yubikey_challenge", yubikey_challenge);
  return j;
}

Result<CeremonyOffer> CeremonyOffer::parse(const Json& j) {
  if (!j.is_object()) return protocol("The ceremony offer is not a JSON object.");
  CeremonyOffer o;
  if (Status s = read_head(j, o.ceremony, o.expires_in); !s.ok()) return s.error();
  auto origin = opt_string(j, "origin");
  if (!origin.ok()) return origin.error();
  o.origin = origin->value_or("");
  auto salt = opt_bytes(j, "salt", 32, 32);
  if (!salt.ok()) return salt.error();
  o.salt = std::move(*salt);
  auto prf = opt_bytes(j, "prf_input", 1, 64);
  if (!prf.ok()) return prf.error();
  o.prf_input = std::move(*prf);
  auto challenge = opt_bytes(j, "yubikey_challenge", 64, 64);
  if (!challenge.ok()) return challenge.error();
  o.yubikey_challenge = std::move(*challenge);
  const auto list = j.find("credentials");
  if (list == j.end() || !list->is_array() || list->empty() ||
      list->size() > kMaxOfferedCredentials) {
    return protocol("\"credentials\" must list 1 to " + std::to_string(kMaxOfferedCredentials) +
                    " credentials.");
  }
  for (const auto& item : *list) {
    auto c = parse_credential(item);
    if (!c.ok()) return c.error();
    if (c->kind == TokenKind::fido2 && o.salt.empty()) {
      return protocol("An offer of a FIDO2 credential needs \"salt\".");
    }
    if (c->kind == TokenKind::fido2 && !c->challenge.empty() && o.origin.empty()) {
      return protocol("An offer of a WebAuthn challenge needs \"origin\".");
    }
    if (c->kind == TokenKind::yubikey && o.yubikey_challenge.empty()) {
      return protocol("An offer of a YubiKey needs \"yubikey_challenge\".");
    }
    o.credentials.push_back(std::move(*c));
  }
  return o;
}

Json EnrollOffer::to_json() const {
  Json j = {{"ceremony", to_base64url(ceremony)},
            {"expires_in", expires_in},
            {"kind", token_kind_name(kind)}};
  if (kind == TokenKind::fido2) {
    j["rp_id"] = rp_id;
    j["rp_name"] = rp_name;
    j["user_id"] = to_base64url(user_id);
    j["user_name"] = user_name;
    j["origin"] = origin;
    j["challenge"] = to_base64url(challenge);
    j["uv"] = user_verification;
  } else {
    j["slot"] = slot;
    j["program"] = program;
    j["force"] = force;
    j["rolling_challenge"] = to_base64url(rolling_challenge);
  }
  return j;
}

Result<EnrollOffer> EnrollOffer::parse(const Json& j) {
  if (!j.is_object()) return protocol("The enroll offer is not a JSON object.");
  EnrollOffer o;
  if (Status s = read_head(j, o.ceremony, o.expires_in); !s.ok()) return s.error();
  auto kind = read_kind(j);
  if (!kind.ok()) return kind.error();
  o.kind = *kind;
  if (o.kind == TokenKind::yubikey) {
    auto slot = opt_int(j, "slot", 1, 2);
    if (!slot.ok()) return slot.error();
    if (*slot == 0) return protocol("\"slot\" is required.");
    o.slot = static_cast<int>(*slot);
    auto program = opt_bool(j, "program");
    if (!program.ok()) return program.error();
    auto force = opt_bool(j, "force");
    if (!force.ok()) return force.error();
    o.program = *program;
    o.force = *force;
    auto rolling = req_bytes(j, "rolling_challenge", 64, 64);
    if (!rolling.ok()) return rolling.error();
    o.rolling_challenge = std::move(*rolling);
    return o;
  }
  auto rp_id = req_string(j, "rp_id", kMaxRpIdBytes);
  if (!rp_id.ok()) return rp_id.error();
  o.rp_id = std::move(*rp_id);
  auto rp_name = opt_string(j, "rp_name", kMaxLabelBytes);
  if (!rp_name.ok()) return rp_name.error();
  o.rp_name = rp_name->value_or("");
  auto user_id = req_bytes(j, "user_id", 1, 64);
  if (!user_id.ok()) return user_id.error();
  o.user_id = std::move(*user_id);
  auto user_name = req_string(j, "user_name", kMaxLabelBytes);
  if (!user_name.ok()) return user_name.error();
  o.user_name = std::move(*user_name);
  auto origin = req_string(j, "origin");
  if (!origin.ok()) return origin.error();
  o.origin = std::move(*origin);
  auto challenge = req_bytes(j, "challenge", 32, 32);
  if (!challenge.ok()) return challenge.error();
  o.challenge = std::move(*challenge);
  auto uv = opt_bool(j, "uv");
  if (!uv.ok()) return uv.error();
  o.user_verification = *uv;
  return o;
}

void Finish::add_to(Json& request) const {
  request["ceremony"] = to_base64url(ceremony);
  request["credential"] = to_base64url(credential);
  put_bytes(request, "authenticator_data", authenticator_data);
  put_bytes(request, "signature", signature);
  if (!client_data_json.empty()) request["client_data_json"] = client_data_json;
  if (!attestation_format.empty()) request["attestation_format"] = attestation_format;
  put_bytes(request, "attestation_certificate", attestation_certificate);
  if (!device.empty()) request["device"] = device;
  if (virtual_token) request["virtual"] = true;
}

Result<Finish> Finish::parse(const Json& j) {
  Finish f;
  auto id = req_bytes(j, "ceremony", kCeremonyIdBytes, kCeremonyIdBytes);
  if (!id.ok()) return id.error();
  f.ceremony = std::move(*id);
  auto credential = req_bytes(j, "credential", 1, kMaxCredentialIdBytes);
  if (!credential.ok()) return credential.error();
  f.credential = std::move(*credential);
  auto auth_data = opt_bytes(j, "authenticator_data", 37, kMaxAuthenticatorDataBytes);
  if (!auth_data.ok()) return auth_data.error();
  f.authenticator_data = std::move(*auth_data);
  auto signature = opt_bytes(j, "signature", 8, kMaxSignatureBytes);
  if (!signature.ok()) return signature.error();
  f.signature = std::move(*signature);
  auto client_data = opt_string(j, "client_data_json", kMaxFinishClientDataBytes);
  if (!client_data.ok()) return client_data.error();
  f.client_data_json = client_data->value_or("");
  auto format = opt_string(j, "attestation_format", 32);
  if (!format.ok()) return format.error();
  f.attestation_format = format->value_or("");
  auto certificate = opt_bytes(j, "attestation_certificate", 1, kMaxCertificateBytes);
  if (!certificate.ok()) return certificate.error();
  f.attestation_certificate = std::move(*certificate);
  auto device = opt_string(j, "device", kMaxDeviceTextBytes);
  if (!device.ok()) return device.error();
  f.device = device->value_or("");
  auto is_virtual = opt_bool(j, "virtual");
  if (!is_virtual.ok()) return is_virtual.error();
  f.virtual_token = *is_virtual;
  return f;
}

}  // namespace touchpass::ipc
