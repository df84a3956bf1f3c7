// The keys that make the store tamper-evident (DESIGN.md §7), derived from the pepper, which is
// never in the store:
//
//   audit key = HMAC-SHA-256(pepper, "touchpass/audit-key/v1")
//   row key   = HMAC-SHA-256(pepper, "touchpass/row-mac/v1")
//
//   link_n    = HMAC-SHA-256(audit key, "touchpass/v2/audit" || link_{n-1} || entry_n)
//   grant MAC = HMAC-SHA-256(row key, "touchpass/v1/grant" || cbor({1: grant_id, 2: user,
//               3: name, 4: scopes joined by ",", 5: created, 6: expires, 7: token_id, 8: kind,
//               9: credential, 10: verifier, 11: revoked or -1[, 12: version, 13: rp_id
//               [, 14: networks joined by ","]]}))
//               where 12 and 13 are present unless version is 1, rp_id is empty and there are
//               no networks: the MAC of such a grant is the one written before schema v7 (which
//               had neither field); 14 is present when the grant is restricted to networks
//               (schema v10), so the MACs of older grants still match. The map's size tells the
//               three forms apart, so no grant's version, rp id or network restriction can be
//               changed, added or dropped without the row key.
//   token MAC = HMAC-SHA-256(row key, "touchpass/v1/token" || cbor({1: id, 2: user, 3: label,
//               4: kind, 5: credential, 6: rp_id, 7: algorithm, 8: public_key, 9: uv,
//               10: sign_count, 11: aaguid, 12: attestation_format, 13: attestation_x5c,
//               14: device, 15: is_virtual, 16: created, 17: revoked or -1,
//               18: rolling_challenge, 19: rolling_hash}))
//   invitation MAC = HMAC-SHA-256(row key, "touchpass/v1/invitation" || cbor({1: id, 2: user,
//               3: code_hash, 4: created, 5: expires, 6: created_by, 7: used or -1}))
//
// with entry_n the canonical encoding of audit_chain.h and cbor() deterministic CBOR (RFC 8949
// §4.2.1; -1 is a negative integer). Without the pepper a database writer can neither extend
// nor rewrite the audit log, nor add, revive, extend or re-version a grant, nor invite anyone. A
// grant's usage (last_used, last_service, last_remote) and its issue proof (proof_auth_data,
// proof_signature, proof_client_data) are not covered.
// Networks and scopes are joined alike (store/scopes.h): neither contains a ",".
#pragma once

#include <memory>
#include <string_view>

#include "core/bytes.h"
#include "core/crypto.h"
#include "core/status.h"
#include "store/records.h"

namespace touchpass::store {

inline constexpr std::size_t kMacSize = 32;

// What the store itself adds to an audit entry's detail, so that the tables can be checked
// against the log: "issued grant <hex id>" and "revoked grants <hex id>,<hex id>,…".
inline constexpr std::string_view kIssuedGrantNote = "issued grant ";
inline constexpr std::string_view kRevokedGrantsNote = "revoked grants ";

class StoreKeys {
 public:
  // Derives both keys from the pepper. Errors: internal if OpenSSL fails.
  static Result<std::shared_ptr<const StoreKeys>> derive(crypto::ByteView pepper);

  // link_n of the keyed audit chain for the entry `seq` after `prev`.
  Result<Bytes> audit_link(const Bytes& prev, std::int64_t seq, const AuditEvent& event) const;
  // The MAC of a grant row (the fields listed above; usage and proofs are not covered). A
  // version 1 grant without an rp id keeps the MAC of stores before schema v7.
  Result<Bytes> grant_mac(const GrantRecord& grant) const;
  // The MAC of a token row (every stored field).
  Result<Bytes> token_mac(const TokenRecord& token) const;
  // The MAC of an invitation row (every stored field).
  Result<Bytes> invitation_mac(const InvitationRecord& invitation) const;

  StoreKeys(crypto::HmacSha256Key audit, crypto::HmacSha256Key rows)
      : audit_(std::move(audit)), rows_(std::move(rows)) {}

 private:
  crypto::HmacSha256Key audit_;
  crypto::HmacSha256Key rows_;
};

// True when `mac` is `expected` (compared in constant time).
bool mac_matches(const Bytes& mac, const Bytes& expected);

}  // namespace touchpass::store
