// Parsing of `touchpass issue --expires VALUE` into the protocol's `expires` (Unix seconds,
// 0 = never). Accepted forms:
//
//   never        the password does not expire (0); also the default when --expires is absent
//   Nd Nw Nm Ny  N days, weeks, months or years from now, where a month is 30 days and a year is
//                365 days (N a whole number from 1; upper- or lower-case unit)
//   YYYY-MM-DD   the start of that day, 00:00 UTC: the password works until that day begins
//
// The result must lie in the future and no later than 9999-12-31 (the protocol's limit).
#pragma once

#include <cstdint>
#include <string_view>

#include "core/status.h"

namespace touchpass::cli {

// The latest `expires` the protocol accepts: 9999-12-31 23:59:59 UTC.
inline constexpr std::int64_t kMaxExpires = INT64_C(253402300799);

// `text` as Unix seconds, durations counted from `now` (Unix seconds). Errors: invalid_argument
// with a sentence naming the value and the accepted forms.
Result<std::int64_t> parse_expiry(std::string_view text, std::int64_t now);

}  // namespace touchpass::cli
