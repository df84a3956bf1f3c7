// Invitation codes (DESIGN.md §6): the one-time secret with which a user enrolls a first key
// through touchpass-web. A code is 100 random bits written like an app password
// ("xxxx-xxxx-xxxx-xxxx-xxxx", core/password.h) and read back with the same normalization, so
// that a person can type it; the store keeps only its hash:
//
//   code hash = SHA-256("touchpass/v1/invitation" || normalized code)
//
// 100 random bits need no slow hash: nobody can guess a code before it expires.
#pragma once

#include <string_view>

#include "core/bytes.h"
#include "core/password.h"
#include "core/status.h"

namespace touchpass {

// A fresh code from the one random source. internal if the generator or formatting fails.
Result<AppPassword> new_invitation_code();

// The hash of the code a person typed (normalized first). invalid_argument with a sentence when
// it is not 20 characters of the code alphabet once normalized; internal if hashing fails.
Result<Bytes> invitation_code_hash(std::string_view typed);

}  // namespace touchpass
