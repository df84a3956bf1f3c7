#include "web/session_cookie.h"

#include <openssl/crypto.h>

#include "core/bytes.h"

namespace touchpass::web {

namespace {
constexpr std::string_view kAttributes = "; Path=/; Secure; HttpOnly; SameSite=Strict";
}  // namespace

std::optional<SecretBytes> session_from_cookie(std::string_view value) {
  auto decoded = from_base64url(value);
  if (!decoded) return std::nullopt;
  std::optional<SecretBytes> session;
  if (decoded->size() == kSessionTokenBytes) session = SecretBytes::copy_of(*decoded);
  OPENSSL_cleanse(decoded->data(), decoded->size());
  return session;
}

std::string session_cookie(const SecretBytes& session) {
  return std::string(kSessionCookie) + "=" + to_base64url(session.bytes()) +
         std::string(kAttributes);
}

std::string cleared_session_cookie() {
  return std::string(kSessionCookie) + "=" + std::string(kAttributes) + "; Max-Age=0";
}

}  // namespace touchpass::web
