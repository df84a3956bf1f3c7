#include "daemon/proof_check.h"

#include <map>

#include "core/assertion.h"
#include "core/client_data.h"
#include "core/derivation.h"
#include "core/grant.h"
#include "daemon/service_support.h"

namespace touchpass::daemon {

Result<GrantProofReport> check_grant_proofs(store::AdminStore& store, const std::string& user) {
  auto grants = store.list_grants(user, true);
  if (!grants.ok()) return grants.error();
  auto tokens = store.list_tokens(user, true);
  if (!tokens.ok()) return tokens.error();
  std::map<std::int64_t, const store::TokenRecord*> by_id;
  for (const auto& t : *tokens) by_id[t.id] = &t;
  GrantProofReport out;
  for (const store::GrantRecord& g : *grants) {
    if (g.kind != TokenKind::fido2) continue;  // a YubiKey signs nothing
    ++out.checked;
    const auto failed = [&](const std::string& why) {
      // Itemized up to a bound, so that the answer always fits a frame; counted all.
      if (++out.failed <= kMaxItemizedProofErrors) {
        out.errors.push_back({{"user", g.user}, {"name", g.name}, {"error", why}});
      }
    };
    const auto token = by_id.find(g.token_id);
    const auto key =
        token == by_id.end() ? std::nullopt : Es256PublicKey::from_raw(token->second->public_key);
    if (!key) {
      failed("its security key's public key is not in the store");
      continue;
    }
    const auto grant = grant_of(g);
    const auto challenge =
        grant.ok() ? grant_challenge(grant->version, encode_grant(*grant)) : grant.error();
    if (!challenge.ok()) {
      failed(challenge.error().message);
      continue;
    }
    // v1: the key signed the challenge itself; v2: a clientDataJSON carrying it.
    Bytes signed_hash(challenge->begin(), challenge->end());
    if (grant->version == kGrantVersionV2) {
      const std::string client_json(g.proof_client_data.begin(), g.proof_client_data.end());
      const auto client = parse_client_data(client_json);
      if (!client.ok() || client->type != kClientDataGet || client->challenge != signed_hash) {
        failed("its client data does not carry the grant's challenge");
        continue;
      }
      const auto hashed = client_data_hash(client_json);
      if (!hashed.ok()) return hashed.error();
      signed_hash.assign(hashed->begin(), hashed->end());
    }
    const bool uv = uv_from_name(token->second->uv) == devices::UserVerification::pin;
    const auto verified = verify_signed_hash(g.proof_auth_data, signed_hash, g.proof_signature,
                                             *key, token->second->rp_id, uv);
    if (!verified.ok()) failed(verified.error().message);
  }
  return out;
}

}  // namespace touchpass::daemon
