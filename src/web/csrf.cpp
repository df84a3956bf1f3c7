#include "web/csrf.h"

#include <openssl/crypto.h>

#include "core/bytes.h"
#include "core/crypto.h"
#include "core/random.h"

namespace touchpass::web {

namespace {
constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kTokenBytes = 32;
}  // namespace

Result<CsrfGuard> CsrfGuard::create() {
  SecretBytes key(kKeyBytes);
  if (Status s = fill_random({key.data(), key.size()}); !s.ok()) {
    return Error{Code::internal, "No random bytes for the CSRF key: " + std::string(s.message())};
  }
  return CsrfGuard(std::move(key));
}

std::string CsrfGuard::token_for(std::span<const std::uint8_t> session) const {
  std::array<std::uint8_t, kTokenBytes> mac{};
  if (!crypto::hmac_sha256(key_.bytes(), session, mac).ok()) return "";
  return to_base64url(mac);
}

bool CsrfGuard::accepts(std::string_view token, std::span<const std::uint8_t> session) const {
  const std::string expected = token_for(session);
  return !expected.empty() && token.size() == expected.size() &&
         CRYPTO_memcmp(token.data(), expected.data(), expected.size()) == 0;
}

}  // namespace touchpass::web
