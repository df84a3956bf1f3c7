// The JSON of touchpass-web's relayed requests (src/web/API.md, "The relayed requests"), as the
// remote channel sends and reads it: a local protocol request becomes the body of
// POST /api/v1/<op>, and the API's answer becomes the daemon's answer. Pure; nothing here is
// parsed by hand (nlohmann::json), and the secrets travel only in wiped memory.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "cli/client.h"
#include "core/secret.h"
#include "core/status.h"
#include "ipc/messages.h"

namespace touchpass::cli {

// The body of POST /api/v1/<op_name(request.op)>: the request's fields (ipc::Request::to_json)
// without "op", and `secret`, when not empty, as "secret" in base64url — except for an invited
// enroll-begin (request.invitation), whose secret is the invitation code, sent as written in
// "invitation". Errors: invalid_argument for an invitation code with characters other than
// letters, digits, '-' and spaces.
Result<SecretBytes> api_request_body(const ipc::Request& request,
                                     std::span<const std::uint8_t> secret);

// An API answer read: the daemon's answer, and the CSRF token when the answer carries one (it
// opens a session, or is `session`'s); "csrf" and "secret" are taken out of the result.
struct ApiAnswer {
  Answer answer;
  std::optional<std::string> csrf;
};

// Reads the answer `body` that came with HTTP status `http_status` from `server` (a host name,
// for sentences). {"v": 1, "ok": true, "result": {…}} is the answer, with result.secret
// (base64url) moved into Answer::secret; {"ok": false, "error": {"code", "message"}} is an
// Error with the same code (ipc::code_from_name; an unknown code is internal) and the message
// made printable. Errors for a body that is neither: io_error for an HTTP status of 500 or more
// (a proxy's page, an overloaded server), protocol_error otherwise; unsupported_version for
// another "v". Any secret copy the parse made is wiped.
Result<ApiAnswer> api_answer(std::string_view body, long http_status, std::string_view server);

}  // namespace touchpass::cli
