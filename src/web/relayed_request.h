// What touchpass-web sends touchpassd for one relayed API request (API.md, "The relayed
// requests"): the local protocol's request, checked as touchpassd would check it, and the
// frame's secret part made from the body's secret, the invitation code and the session.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/secret.h"
#include "core/status.h"
#include "ipc/messages.h"

namespace touchpass::web {

struct RelayedRequest {
  ipc::Request request;
  SecretBytes secret;  // the frame's secret part
};

// Whether `op` (the path after /api/v1/) is one a web user may make.
std::optional<ipc::Op> relayed_op(std::string_view op);

// Builds the request for `op` from the API body `body` (already parsed: an object with "v"), the
// client's address `remote` and the session token from the cookie (if any). The body's
// `secret` (base64url) and, for enroll-begin, its `invitation` (the code as written) or
// `password` (the account password, for a first key) move into the secret part and are wiped
// from `body`; for phone-setup the secret part is the body's `secret` alone (the link's token),
// for finish the session (or zeros) then it, otherwise the session. Errors: protocol_error for a
// malformed request (touchpassd's own check, ipc::Request::parse) or a `secret` that is not
// base64url.
Result<RelayedRequest> relayed_request(ipc::Op op, nlohmann::json& body, const std::string& remote,
                                       const std::optional<SecretBytes>& session);

}  // namespace touchpass::web
