// Strict readers of one field of a parsed JSON message (internal to src/ipc): each names the
// field in its protocol_error sentence, and bounds the sizes of what it accepts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/bytes.h"
#include "core/status.h"
#include "ipc/messages.h"

namespace touchpass::ipc::fields {

// The longest string a field may hold unless a reader says otherwise.
inline constexpr std::size_t kMaxFieldBytes = 1024;

// A protocol_error with `sentence`.
Error protocol(std::string sentence);

// An optional string: nullopt when absent or null; an error when of another type or longer than
// `max` bytes.
Result<std::optional<std::string>> opt_string(const Json& j, const char* key,
                                              std::size_t max = kMaxFieldBytes);
// A required, non-empty string.
Result<std::string> req_string(const Json& j, const char* key, std::size_t max = kMaxFieldBytes);
// An optional boolean: false when absent.
Result<bool> opt_bool(const Json& j, const char* key);
// An optional integer in [min, max]: 0 when absent.
Result<std::int64_t> opt_int(const Json& j, const char* key, std::int64_t min, std::int64_t max);
// A required byte string, base64url without padding, of `min` to `max` bytes once decoded.
Result<Bytes> req_bytes(const Json& j, const char* key, std::size_t min, std::size_t max);
// The same, optional: empty when absent or null.
Result<Bytes> opt_bytes(const Json& j, const char* key, std::size_t min, std::size_t max);

}  // namespace touchpass::ipc::fields
