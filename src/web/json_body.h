// The body of an API request: a JSON object with "v": 1, parsed once with the same bounds as
// the local protocol's messages (ipc/messages.h: kMaxJsonDepth levels), never by hand.
#pragma once

#include <nlohmann/json.hpp>

#include <string_view>

#include "core/status.h"

namespace touchpass::web {

// Parses `body`. Errors: protocol_error (not JSON, not an object, nesting deeper than
// ipc::kMaxJsonDepth — refused as it is parsed, before any of it is built — or no "v");
// unsupported_version for another "v".
Result<nlohmann::json> parse_json_body(std::string_view body);

}  // namespace touchpass::web
