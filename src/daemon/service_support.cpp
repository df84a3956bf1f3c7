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
  if (g.revoked) j["revoked"] = *g.revoked;
  if (g.last_used) {
    j["last_used"] = *g.last_used;
    j["last_service"] = g.last_service;
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

}  // namespace touchpass::daemon
