// The audit log's hash chain. Each entry's hash covers the previous entry's hash and the
// canonical (deterministic CBOR) encoding of the entry, so removing, reordering or editing any
// entry breaks every later link:
//
//   hash_n = SHA-256("touchpass/v1/audit" || hash_{n-1} || cbor({1: seq, 2: time, 3: actor_uid,
//            4: actor, 5: action, 6: user, 7: object, 8: result, 9: detail}))
//
// with hash_0 (the "previous" of the first entry) = 32 zero bytes.
#pragma once

#include <cstdint>

#include "core/bytes.h"
#include "store/records.h"

namespace touchpass::store {

inline constexpr std::size_t kAuditHashSize = 32;

// The canonical encoding of one entry (without hashes).
Bytes encode_audit_entry(std::int64_t seq, const AuditEvent& event);

// hash_n for an entry with sequence number `seq` following `prev_hash`.
Bytes audit_entry_hash(const Bytes& prev_hash, std::int64_t seq, const AuditEvent& event);

}  // namespace touchpass::store
