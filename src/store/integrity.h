// The keys that make the store tamper-evident (DESIGN.md §7), derived from the pepper, which is
// never in the store:
//
//   audit key = HMAC-SHA-256(pepper, "touchpass/audit-key/v1")
//   row key   = HMAC-SHA-256(pepper, "touchpass/row-mac/v1")
//
//   link_n    = HMAC-SHA-256(audit key, "touchpass/v2/audit" || link_{n-1} || entry_n)
//   grant MAC = HMAC-SHA-256(row key, "touchpass/v1/grant" || cbor({1: grant_id, 2: user,
//               3: name, 4: scopes joined by ",", 5: created, 6: expires, 7: token_id, 8: kind,
//               9: credential, 10: verifier, 11: revoked or -1}))
//   token MAC = HMAC-SHA-256(row key, "touchpass/v1/token" || cbor({1: id, 2: user, 3: label,
//               4: kind, 5: credential, 6: rp_id, 7: algorithm, 8: public_key, 9: uv,
//               10: sign_count, 11: aaguid, 12: attestation_format, 13: attestation_x5c,
//               14: device, 15: is_virtual, 16: created, 17: revoked or -1,
//               18: rolling_challenge, 19: rolling_hash}))
//
// with entry_n the canonical encoding of audit_chain.h. Without the pepper a database writer can
// neither extend nor rewrite the audit log, nor add, revive or extend a grant.
#pragma once

#include <memory>
#include <string_view>

#include "core/bytes.h"
#include "core/crypto.h"
#include "core/status.h"
#include "store/store.h"

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
  // The MAC of a grant row (the fields listed above; usage and proofs are not covered).
  Result<Bytes> grant_mac(const GrantRecord& grant) const;
  // The MAC of a token row (every stored field).
  Result<Bytes> token_mac(const TokenRecord& token) const;

  StoreKeys(crypto::HmacSha256Key audit, crypto::HmacSha256Key rows)
      : audit_(std::move(audit)), rows_(std::move(rows)) {}

 private:
  crypto::HmacSha256Key audit_;
  crypto::HmacSha256Key rows_;
};

// True when `mac` is `expected` (compared in constant time).
bool mac_matches(const Bytes& mac, const Bytes& expected);

}  // namespace touchpass::store
