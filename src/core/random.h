// The one source of randomness: OpenSSL's DRBG (seeded from the kernel). Grant ids, rolling
// challenges, show nonces, peppers, YubiKey keys and the virtual token's keys come from here.
#pragma once

#include <cstddef>
#include <span>

#include "core/bytes.h"
#include "core/status.h"

namespace touchpass {

// Fills `out` with random bytes. internal ("The system random number generator failed.") if
// the generator fails; `out` is then unspecified.
Status fill_random(std::span<std::uint8_t> out);

// `n` random bytes, or internal as fill_random.
Result<Bytes> random_bytes(std::size_t n);

}  // namespace touchpass
