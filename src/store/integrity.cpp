#include "store/integrity.h"

#include <openssl/crypto.h>

#include <array>
#include <string_view>

#include "core/cbor_writer.h"
#include "store/audit_chain.h"
#include "store/scopes.h"

namespace touchpass::store {

namespace {

Result<Bytes> mac_of(const crypto::HmacSha256Key& key, std::string_view domain, const Bytes& body) {
  Bytes message(domain.begin(), domain.end());
  message.insert(message.end(), body.begin(), body.end());
  Bytes out(kMacSize);
  if (Status s = key.compute(message, out); !s.ok()) return s.error();
  return out;
}

Result<crypto::HmacSha256Key> derive_key(crypto::ByteView pepper, std::string_view label) {
  auto pepper_key = crypto::HmacSha256Key::create(pepper);
  if (!pepper_key.ok()) return pepper_key.error();
  std::array<std::uint8_t, kMacSize> derived{};
  const crypto::ByteView message(reinterpret_cast<const std::uint8_t*>(label.data()), label.size());
  if (Status s = pepper_key->compute(message, derived); !s.ok()) return s.error();
  auto key = crypto::HmacSha256Key::create(derived);
  OPENSSL_cleanse(derived.data(), derived.size());
  return key;
}

}  // namespace

Result<std::shared_ptr<const StoreKeys>> StoreKeys::derive(crypto::ByteView pepper) {
  auto audit = derive_key(pepper, "touchpass/audit-key/v1");
  if (!audit.ok()) return audit.error();
  auto rows = derive_key(pepper, "touchpass/row-mac/v1");
  if (!rows.ok()) return rows.error();
  return std::make_shared<const StoreKeys>(std::move(*audit), std::move(*rows));
}

Result<Bytes> StoreKeys::audit_link(const Bytes& prev, std::int64_t seq,
                                    const AuditEvent& event) const {
  Bytes body = prev;
  const Bytes entry = encode_audit_entry(seq, event);
  body.insert(body.end(), entry.begin(), entry.end());
  return mac_of(audit_, "touchpass/v2/audit", body);
}

Result<Bytes> StoreKeys::grant_mac(const GrantRecord& g) const {
  // A version 1 grant without an rp id has the 11-entry map of stores before schema v7, so
  // their MACs still match; an unrestricted grant has at most 13 entries (as before schema
  // v10), a restricted one 14, which no shorter map equals.
  const bool restricted = !g.networks.empty();
  const bool v1_layout = g.version == 1 && g.rp_id.empty() && !restricted;
  CborWriter w;
  w.map(v1_layout ? 11 : restricted ? 14 : 13);
  w.uint(1).bytes(g.grant_id);
  w.uint(2).text(g.user);
  w.uint(3).text(g.name);
  w.uint(4).text(join_scopes(g.scopes));
  w.uint(5).nint(g.created);
  w.uint(6).nint(g.expires);
  w.uint(7).nint(g.token_id);
  w.uint(8).text(token_kind_name(g.kind));
  w.uint(9).bytes(g.credential);
  w.uint(10).bytes(g.verifier);
  w.uint(11).nint(g.revoked.value_or(-1));
  if (!v1_layout) {
    w.uint(12).uint(g.version);
    w.uint(13).text(g.rp_id);
  }
  if (restricted) w.uint(14).text(join_scopes(g.networks));
  return mac_of(rows_, "touchpass/v1/grant", w.take());
}

Result<Bytes> StoreKeys::token_mac(const TokenRecord& t) const {
  CborWriter w;
  w.map(19);
  w.uint(1).nint(t.id);
  w.uint(2).text(t.user);
  w.uint(3).text(t.label);
  w.uint(4).text(token_kind_name(t.kind));
  w.uint(5).bytes(t.credential);
  w.uint(6).text(t.rp_id);
  w.uint(7).nint(t.algorithm);
  w.uint(8).bytes(t.public_key);
  w.uint(9).text(t.uv);
  w.uint(10).nint(t.sign_count);
  w.uint(11).bytes(t.aaguid);
  w.uint(12).text(t.attestation_format);
  w.uint(13).bytes(t.attestation_x5c);
  w.uint(14).text(t.device);
  w.uint(15).nint(t.is_virtual ? 1 : 0);
  w.uint(16).nint(t.created);
  w.uint(17).nint(t.revoked.value_or(-1));
  w.uint(18).bytes(t.rolling_challenge);
  w.uint(19).bytes(t.rolling_hash);
  return mac_of(rows_, "touchpass/v1/token", w.take());
}

Result<Bytes> StoreKeys::invitation_mac(const InvitationRecord& i) const {
  CborWriter w;
  w.map(7);
  w.uint(1).nint(i.id);
  w.uint(2).text(i.user);
  w.uint(3).bytes(i.code_hash);
  w.uint(4).nint(i.created);
  w.uint(5).nint(i.expires);
  w.uint(6).text(i.created_by);
  w.uint(7).nint(i.used.value_or(-1));
  return mac_of(rows_, "touchpass/v1/invitation", w.take());
}

bool mac_matches(const Bytes& mac, const Bytes& expected) {
  return mac.size() == expected.size() && !expected.empty() &&
         CRYPTO_memcmp(mac.data(), expected.data(), mac.size()) == 0;
}

}  // namespace touchpass::store
