#include "store/sql_rows.h"

namespace touchpass::store::sql {

Result<TokenKind> read_kind(const Query& s, int col, const std::string& row) {
  const auto kind = token_kind_from_name(s.text(col));
  if (kind) return *kind;
  return Error{Code::integrity, "The record of " + row +
                                    " has an unknown token kind (neither fido2 nor yubikey): it "
                                    "was changed outside touchpassd; run \"touchpass log "
                                    "--verify\" and restore the store from a backup."};
}

const std::string_view kTokenColumns =
    "id, \"user\", label, kind, credential, rp_id, algorithm, public_key, uv, sign_count, aaguid, "
    "attestation_format, attestation_x5c, device, is_virtual, created, revoked, rolling_challenge, "
    "rolling_hash, mac";

Result<TokenRecord> read_token(const Query& s, const StoreKeys* keys) {
  TokenRecord t;
  t.id = s.integer(0);
  t.user = s.text(1);
  t.label = s.text(2);
  t.credential = s.blob(4);
  t.rp_id = s.text(5);
  t.algorithm = static_cast<int>(s.integer(6));
  t.public_key = s.blob(7);
  t.uv = s.text(8);
  t.sign_count = static_cast<std::uint32_t>(s.integer(9));
  t.aaguid = s.blob(10);
  t.attestation_format = s.text(11);
  t.attestation_x5c = s.blob(12);
  t.device = s.text(13);
  t.is_virtual = s.integer(14) != 0;
  t.created = s.integer(15);
  t.revoked = s.optional_integer(16);
  t.rolling_challenge = s.blob(17);
  t.rolling_hash = s.blob(18);
  auto kind = read_kind(s, 3, "security key \"" + t.label + "\" of " + t.user);
  if (!kind.ok()) return kind.error();
  t.kind = *kind;
  if (keys != nullptr) {
    auto mac = keys->token_mac(t);
    t.intact = mac.ok() && mac_matches(s.blob(19), *mac);
  } else {
    t.intact = false;
  }
  return t;
}

const std::string_view kGrantColumns =
    "grant_id, \"user\", name, scopes, created, expires, token_id, kind, credential, verifier, "
    "proof_auth_data, proof_signature, revoked, last_used, last_service, last_remote, version, "
    "rp_id, proof_client_data, "
    "(SELECT revoked IS NOT NULL FROM tokens WHERE tokens.id = grants.token_id), mac, networks";

Result<GrantRecord> read_grant(const Query& s, const StoreKeys* keys) {
  GrantRecord g;
  g.grant_id = s.blob(0);
  g.user = s.text(1);
  g.name = s.text(2);
  g.scopes = split_scopes(s.text(3));
  g.created = s.integer(4);
  g.expires = s.integer(5);
  g.token_id = s.integer(6);
  g.credential = s.blob(8);
  g.verifier = s.blob(9);
  g.proof_auth_data = s.blob(10);
  g.proof_signature = s.blob(11);
  g.revoked = s.optional_integer(12);
  g.last_used = s.optional_integer(13);
  g.last_service = s.text(14);
  g.last_remote = s.text(15);
  g.version = static_cast<std::uint64_t>(s.integer(16));
  g.rp_id = s.text(17);
  g.proof_client_data = s.blob(18);
  g.token_revoked = s.integer(19) != 0;
  g.networks = split_scopes(s.text(21));
  auto kind = read_kind(s, 7, "app password \"" + g.name + "\" of " + g.user);
  if (!kind.ok()) return kind.error();
  g.kind = *kind;
  if (keys != nullptr) {
    auto mac = keys->grant_mac(g);
    g.intact = mac.ok() && mac_matches(s.blob(20), *mac);
  } else {
    g.intact = false;
  }
  return g;
}

}  // namespace touchpass::store::sql
