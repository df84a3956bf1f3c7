#include "daemon/proof_check.h"

#include <map>
#include <optional>
#include <span>
#include <string_view>

#include "core/assertion.h"
#include "core/client_data.h"
#include "core/derivation.h"
#include "core/grant.h"
#include "core/show_proof.h"
#include "daemon/service_support.h"
#include "store/integrity.h"

namespace touchpass::daemon {

namespace {

using TokensById = std::map<std::int64_t, const store::TokenRecord*>;
using GrantsById = std::map<std::string, const store::GrantRecord*>;  // by hex id

Status not_verified(std::string why) {
  return Status(Code::verification_failed, std::move(why));
}

std::string_view text_of(const Bytes& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Whether `signature` over `auth_data` and `challenge` verifies with the key, rp id and user
// verification enrolled for `token` (null: not in the store). A v1 grant's key signs the
// challenge as the clientDataHash and no client data; a v2 grant's key signs a clientDataJSON of
// type webauthn.get that carries it. `whose` names the challenge in a failure ("the grant's").
// verification_failed with the reason, or internal if OpenSSL fails.
Status check_signed(std::uint64_t version, const GrantChallenge& challenge, std::string_view whose,
                    std::string_view client_json, std::span<const std::uint8_t> auth_data,
                    std::span<const std::uint8_t> signature, const store::TokenRecord* token) {
  const auto key = token == nullptr ? std::nullopt : Es256PublicKey::from_raw(token->public_key);
  if (!key) return not_verified("its security key's public key is not in the store");
  Bytes signed_hash(challenge.begin(), challenge.end());
  if (version == kGrantVersionV1 && !client_json.empty()) {
    return not_verified("it carries client data, which the key of a v1 grant does not sign");
  }
  if (version == kGrantVersionV2) {
    const auto client = parse_client_data(client_json);
    if (!client.ok() || client->type != kClientDataGet || client->challenge != signed_hash) {
      return not_verified("its client data does not carry " + std::string(whose) + " challenge");
    }
    const auto hashed = client_data_hash(client_json);
    if (!hashed.ok()) return hashed.error();
    signed_hash.assign(hashed->begin(), hashed->end());
  }
  const bool uv = uv_from_name(token->uv) == devices::UserVerification::pin;
  return verify_signed_hash(auth_data, signed_hash, signature, *key, token->rp_id, uv).status();
}

// The grant id (hex) whose issue an audit entry records: the store notes "issued grant <hex>"
// in it. Empty when it notes none.
std::string issued_grant(const store::AuditEntry& e) {
  if (e.event.action != "issue" || e.event.result != "ok") return {};
  const auto at = e.event.detail.find(store::kIssuedGrantNote);
  if (at == std::string::npos) return {};
  return e.event.detail.substr(at + store::kIssuedGrantNote.size(), 2 * GrantId::kSize);
}

// The proof of grant `g`, issued as `name`: its key's signature over the grant's challenge.
Status check_grant(const store::GrantRecord& g, const std::string& name,
                   const store::TokenRecord* token) {
  auto grant = grant_of(g);
  if (!grant.ok()) return grant.status();
  grant->name = name;
  const auto challenge = grant_challenge(grant->version, encode_grant(*grant));
  if (!challenge.ok()) return challenge.status();
  return check_signed(grant->version, *challenge, "the grant's", text_of(g.proof_client_data),
                      g.proof_auth_data, g.proof_signature, token);
}

// A show's audit entry from before show proofs: "nonce <hex> proof <signature hex>" (a
// YubiKey's show, which signs nothing, kept "nonce <hex>").
bool signed_before_show_proofs(const std::string& detail) {
  return detail.starts_with("nonce ") && detail.find(" proof ") != std::string::npos;
}

// The proof a show's audit entry `e` keeps: its key's signature over the challenge of the grant
// it names, as shown under the entry's object, with the nonce it names.
Status check_show(const store::AuditEntry& e, const GrantsById& grants, const TokensById& tokens) {
  const auto proof = parse_show_proof(e.event.detail);
  if (!proof.ok()) return not_verified(proof.error().message);
  const auto found = grants.find(to_hex(proof->grant_id.bytes()));
  if (found == grants.end() || found->second->user != e.event.user) {
    return not_verified("it names a grant " + e.event.user + " does not have");
  }
  const store::GrantRecord& g = *found->second;
  if (g.kind != TokenKind::fido2) {
    return not_verified("it names a YubiKey's grant, whose key signs nothing");
  }
  auto grant = grant_of(g);
  if (!grant.ok()) return grant.status();
  grant->name = e.event.object;
  const auto challenge = show_challenge(grant->version, encode_grant(*grant), proof->nonce);
  if (!challenge.ok()) return challenge.status();
  const auto token = tokens.find(g.token_id);
  return check_signed(grant->version, *challenge, "the show's", proof->client_data_json,
                      proof->authenticator_data, proof->signature,
                      token == tokens.end() ? nullptr : token->second);
}

}  // namespace

Result<ProofReport> check_proofs(store::AdminStore& store, const std::string& user) {
  auto grants = store.list_grants(user, true);
  if (!grants.ok()) return grants.error();
  auto tokens = store.list_tokens(user, true);
  if (!tokens.ok()) return tokens.error();
  auto entries = store.list_audit(user, 0);
  if (!entries.ok()) return entries.error();
  TokensById tokens_by_id;
  for (const auto& t : *tokens) tokens_by_id[t.id] = &t;
  GrantsById grants_by_id;
  for (const auto& g : *grants) grants_by_id[to_hex(g.grant_id)] = &g;
  // The name each grant was issued with (the key signed it; a rename since changes the record).
  std::map<std::string, std::string> issued_as;
  for (const store::AuditEntry& e : *entries) {
    if (const std::string id = issued_grant(e); !id.empty()) issued_as[id] = e.event.object;
  }
  const auto token_of = [&](const store::GrantRecord& g) -> const store::TokenRecord* {
    const auto t = tokens_by_id.find(g.token_id);
    return t == tokens_by_id.end() ? nullptr : t->second;
  };

  ProofReport out;
  for (const store::GrantRecord& g : *grants) {
    if (g.kind != TokenKind::fido2) continue;  // a YubiKey signs nothing
    ++out.grants.checked;
    const auto issued = issued_as.find(to_hex(g.grant_id));
    const Status s =
        check_grant(g, issued == issued_as.end() ? g.name : issued->second, token_of(g));
    if (s.code() == Code::internal) return s.error();
    // Itemized up to a bound, so that the answer always fits a frame; counted all.
    if (!s.ok() && ++out.grants.failed <= kMaxItemizedProofErrors) {
      out.grants.errors.push_back({{"user", g.user}, {"name", g.name}, {"error", s.message()}});
    }
  }
  for (const store::AuditEntry& e : *entries) {
    const store::AuditEvent& event = e.event;
    if (event.action != "show" || event.result != "ok") continue;
    if (!user.empty() && event.user != user) continue;  // user's shows, not what user did
    if (!is_show_proof(event.detail)) {
      if (signed_before_show_proofs(event.detail)) ++out.shows.unchecked;
      continue;
    }
    ++out.shows.checked;
    const Status s = check_show(e, grants_by_id, tokens_by_id);
    if (s.code() == Code::internal) return s.error();
    if (!s.ok() && ++out.shows.failed <= kMaxItemizedProofErrors) {
      out.shows.errors.push_back(
          {{"user", event.user}, {"name", event.object}, {"seq", e.seq}, {"error", s.message()}});
    }
  }
  return out;
}

}  // namespace touchpass::daemon
