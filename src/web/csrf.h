// CSRF tokens for the session cookie (API.md, "Sessions, cookies and CSRF"): a request that
// carries the cookie must also carry HMAC-SHA256(session token) under a key this process draws
// at start, which only a page that read it from an answer of ours can know.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/secret.h"
#include "core/status.h"

namespace touchpass::web {

class CsrfGuard {
 public:
  // A guard with a fresh random key. Error internal when no random bytes can be had.
  static Result<CsrfGuard> create();

  // The token for `session` (base64url, 43 characters).
  std::string token_for(std::span<const std::uint8_t> session) const;

  // Whether `token` is the token for `session` (compared in constant time).
  bool accepts(std::string_view token, std::span<const std::uint8_t> session) const;

 private:
  explicit CsrfGuard(SecretBytes key) : key_(std::move(key)) {}
  SecretBytes key_;
};

}  // namespace touchpass::web
