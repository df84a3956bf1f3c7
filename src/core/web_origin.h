// The web origin of touchpass-web (DESIGN.md §6), as touchpassd is configured with it
// (`web_origin = https://mail.example.org`): the origin a browser or remote CLI puts in its
// clientDataJSON, and the WebAuthn relying-party id of every key enrolled through the web —
// the origin's host. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace touchpass {

struct WebOrigin {
  std::string origin;  // "https://host" or "https://host:port", the host in lower case
  std::string host;    // the relying-party id
};

// Parses `text`: "https://" then a host name (letters, digits, '-' and '.', 1 to 253
// characters, no empty label) and optionally ":port" (1 to 65535, written without leading
// zeros; ":443" is dropped, as browsers do); nothing after it, not even "/". invalid_argument
// with a sentence naming what is wrong otherwise. IP addresses are host names here only in
// form: WebAuthn refuses them as relying-party ids, so the browser will.
Result<WebOrigin> parse_web_origin(std::string_view text);

}  // namespace touchpass
