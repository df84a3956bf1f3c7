#include "web/security_headers.h"

namespace touchpass::web {

std::vector<Header> security_headers(bool tls, bool api) {
  std::vector<Header> headers = {
      {"Content-Security-Policy",
       "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "no-referrer"},
      {"Cross-Origin-Opener-Policy", "same-origin"},
      {"Cross-Origin-Resource-Policy", "same-origin"},
      {"X-Frame-Options", "DENY"},
  };
  if (tls) headers.emplace_back("Strict-Transport-Security", "max-age=63072000");
  if (api) headers.emplace_back("Cache-Control", "no-store");
  return headers;
}

}  // namespace touchpass::web
