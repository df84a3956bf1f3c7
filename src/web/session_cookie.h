// The session cookie (API.md, "Sessions, cookies and CSRF"): touchpassd's 32-byte session token
// as `__Host-touchpass-session=<base64url>`, Secure, HttpOnly, SameSite=Strict, for the whole
// site and without an expiry (the browser forgets it when it closes; touchpassd ends sessions).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/secret.h"

namespace touchpass::web {

inline constexpr std::string_view kSessionCookie = "__Host-touchpass-session";
inline constexpr std::size_t kSessionTokenBytes = 32;

// The session token in the cookie's value, or nothing when it is not base64url of 32 bytes.
std::optional<SecretBytes> session_from_cookie(std::string_view value);

// The Set-Cookie value that gives the browser `session`.
std::string session_cookie(const SecretBytes& session);

// The Set-Cookie value that removes the cookie (sign-out, an ended session).
std::string cleared_session_cookie();

}  // namespace touchpass::web
