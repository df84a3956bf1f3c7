// The headers every touchpass-web response carries: a Content-Security-Policy that allows no
// inline script or style and no framing, no MIME sniffing, no Referer, a separate browsing
// context group; HSTS when served over TLS; and `Cache-Control: no-store` on every API answer
// (passwords and ceremonies pass there; no cache may keep them).
#pragma once

#include <string_view>
#include <utility>
#include <vector>

namespace touchpass::web {

using Header = std::pair<std::string_view, std::string_view>;

// The security headers for one response: `tls` when the connection is HTTPS (HSTS), `api` for
// answers below /api/ (no-store). The views are static strings.
std::vector<Header> security_headers(bool tls, bool api);

}  // namespace touchpass::web
