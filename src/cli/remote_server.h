// The server of `touchpass --server URL` (or `server =` in the user's configuration): an https
// origin, whose host is the relying-party id of the keys enrolled through it (offer_scope.h),
// and optionally a pinned public key (`--server-pin sha256//BASE64`) for a server whose
// certificate no system CA vouches for. Pure.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "core/web_origin.h"

namespace touchpass::cli {

struct RemoteServer {
  WebOrigin origin;  // "https://host[:port]"; the API is below origin + "/api/v1/"
  // libcurl's CURLOPT_PINNEDPUBLICKEY: "sha256//" and the base64 SHA-256 of the server's
  // SubjectPublicKeyInfo, several joined by ';'. Empty: the certificate is checked against the
  // system's CAs and the host name instead.
  std::string pin;
};

// Parses `url` (an https origin as touchpassd's web_origin is written, core/web_origin.h; one
// trailing '/' is allowed) and `pin` (empty, or one or more "sha256//" + 44 base64 characters
// separated by ';'). Errors: invalid_argument with a sentence naming the option (--server,
// --server-pin) and what is wrong.
Result<RemoteServer> parse_remote_server(std::string_view url, std::string_view pin);

}  // namespace touchpass::cli
