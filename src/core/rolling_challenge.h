// The YubiKey rolling challenge (DESIGN.md §4.2): how touchpassd knows that the YubiKey
// answering is the one enrolled, in the slot enrolled. At enrollment and after every use, a
// fresh 64-byte challenge is stored with a keyed hash of the key's response to it; the next use
// first replays that challenge and compares. A writer of the store without the pepper cannot
// forge the hash, and the raw response (a secret of the slot) is never stored. Pure.
#pragma once

#include <cstddef>
#include <span>

#include "core/bytes.h"
#include "core/status.h"

namespace touchpass {

inline constexpr std::size_t kRollingChallengeBytes = 64;

// HMAC-SHA-256(pepper, "touchpass/v1/rolling" || response): the stored form of a response.
// internal if OpenSSL fails.
Result<Bytes> rolling_response_hash(std::span<const std::uint8_t> pepper,
                                    std::span<const std::uint8_t> response);

// Whether `response` is the one whose rolling_response_hash is `stored` (compared in constant
// time). False also when the hash cannot be computed.
bool rolling_response_matches(std::span<const std::uint8_t> pepper,
                              std::span<const std::uint8_t> response,
                              std::span<const std::uint8_t> stored);

}  // namespace touchpass
