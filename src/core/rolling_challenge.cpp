#include "core/rolling_challenge.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <string_view>

#include "core/crypto.h"
#include "core/secret.h"

namespace touchpass {

namespace {
constexpr std::string_view kRollingLabel = "touchpass/v1/rolling";
}  // namespace

Result<Bytes> rolling_response_hash(std::span<const std::uint8_t> pepper,
                                    std::span<const std::uint8_t> response) {
  SecretBytes message(kRollingLabel.size() + response.size());
  std::copy(kRollingLabel.begin(), kRollingLabel.end(), message.data());
  std::copy(response.begin(), response.end(), message.data() + kRollingLabel.size());
  Bytes out(32);
  if (Status s = crypto::hmac_sha256(pepper, message.bytes(), out); !s.ok()) return s.error();
  return out;
}

bool rolling_response_matches(std::span<const std::uint8_t> pepper,
                              std::span<const std::uint8_t> response,
                              std::span<const std::uint8_t> stored) {
  const Result<Bytes> expected = rolling_response_hash(pepper, response);
  return expected.ok() && expected->size() == stored.size() &&
         CRYPTO_memcmp(expected->data(), stored.data(), stored.size()) == 0;
}

}  // namespace touchpass
