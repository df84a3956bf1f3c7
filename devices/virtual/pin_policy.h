// The virtual token's PIN rules: what a PIN may be and how it is stored.
#pragma once

#include <cstdint>
#include <span>

#include "core/bytes.h"

namespace touchpass::vtoken {

inline constexpr std::size_t kMinPinBytes = 4;
inline constexpr std::size_t kMaxPinBytes = 63;

// Whether `pin` is 4 to 63 bytes of valid UTF-8 without NUL.
bool pin_meets_policy(std::span<const std::uint8_t> pin);

// LEFT(SHA-256(pin), 16): what the token stores and what pinHashEnc carries.
Bytes pin_hash(std::span<const std::uint8_t> pin);

}  // namespace touchpass::vtoken
