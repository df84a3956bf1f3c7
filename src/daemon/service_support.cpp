#include "daemon/service_support.h"

namespace touchpass::daemon {

Status validate_label(const std::string& label) {
  if (label.empty() || label.size() > kMaxLabelBytes) {
    return Status(Code::invalid_argument, "A token label must be 1 to 64 characters long.");
  }
  for (char ch : label) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      return Status(Code::invalid_argument, "A token label may not contain control characters.");
    }
  }
  return {};
}

std::string utf8_prefix(const std::string& text, std::size_t max) {
  if (text.size() <= max) return text;
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

std::string uv_name(devices::UserVerification uv) {
  return uv == devices::UserVerification::pin ? "pin" : "presence";
}

devices::UserVerification uv_from_name(const std::string& name) {
  return name == "presence" ? devices::UserVerification::presence_only
                            : devices::UserVerification::pin;
}

Peer web_peer(const Peer& gateway, const std::string& user) {
  Peer web = gateway;
  web.user = user;
  web.gateway = false;
  web.via_web = true;
  web.admin = web.verifier = web.token_user = false;
  web.groups.clear();
  return web;
}

ipc::Json token_json(const store::TokenRecord& t) {
  ipc::Json j = {{"id", t.id},
                 {"user", t.user},
                 {"label", t.label},
                 {"kind", token_kind_name(t.kind)},
                 {"device", t.device},
                 {"virtual", t.is_virtual},
                 {"uv", t.uv},
                 {"aaguid", to_hex(t.aaguid)},
                 {"attestation", t.attestation_format},
                 {"created", t.created}};
  if (t.revoked) j["revoked"] = *t.revoked;
  return j;
}

ipc::Json grant_json(const store::GrantRecord& g, const std::string& token_label) {
  ipc::Json j = {{"grant_id", to_hex(g.grant_id)},
                 {"user", g.user},
                 {"name", g.name},
                 {"scopes", g.scopes},
                 {"created", g.created},
                 {"expires", g.expires},
                 {"token_id", g.token_id},
                 {"token_label", token_label},
                 {"kind", token_kind_name(g.kind)}};
  if (!g.networks.empty()) j["networks"] = g.networks;
  if (g.revoked) j["revoked"] = *g.revoked;
  if (g.last_used) {
    j["last_used"] = *g.last_used;
    j["last_service"] = g.last_service;
    if (!g.last_remote.empty()) j["last_address"] = g.last_remote;
  }
  return j;
}

Result<Grant> grant_of(const store::GrantRecord& record) {
  auto id = GrantId::from_bytes(record.grant_id);
  if (!id.ok()) return id.error();
  Grant g;
  g.grant_id = *id;
  g.user = record.user;
  g.name = record.name;
  g.scopes = record.scopes;
  g.created = static_cast<std::uint64_t>(record.created);
  g.expires = static_cast<std::uint64_t>(record.expires);
  g.kind = record.kind;
  g.credential = record.credential;
  g.version = record.version;
  g.rp_id = record.rp_id;
  return g;
}

SecretBytes password_secret(const AppPassword& password) {
  return SecretBytes::copy_of(password.grouped());
}

// The offer entry of one candidate.
ipc::OfferedCredential offered_credential(const CeremonyCandidate& c) {
  ipc::OfferedCredential o;
  o.kind = c.grant.kind;
  o.token = c.token.label;
  o.credential = c.grant.credential;
  if (o.kind == TokenKind::yubikey) {
    o.rolling_challenge = c.token.rolling_challenge;
    o.next_challenge = c.next_challenge;
    return o;
  }
  o.rp_id = c.token.rp_id;
  o.user_verification = uv_from_name(c.token.uv) == devices::UserVerification::pin;
  o.public_key = c.token.public_key;
  o.sign_count = c.token.sign_count;
  if (c.grant.version == kGrantVersionV1) {
    o.client_data_hash = c.challenge;
  } else {
    o.challenge = c.challenge;
  }
  return o;
}

}  // namespace touchpass::daemon
