#include "core/derivation.h"

#include <string>
#include <utility>

#include "core/crypto.h"

namespace touchpass {

using crypto::text_bytes;

Result<ClientDataHash> client_data_hash_for_grant(std::span<const std::uint8_t> encoded_grant) {
  if (encoded_grant.empty()) {
    return Result<ClientDataHash>(Code::invalid_argument, "The encoded grant is empty.");
  }
  ClientDataHash hash{};
  if (Status s = crypto::sha256({text_bytes(kGrantLabel), encoded_grant}, hash); !s.ok()) return s;
  return hash;
}

Result<ClientDataHash> client_data_hash_for_show(std::span<const std::uint8_t> encoded_grant,
                                                 std::span<const std::uint8_t> nonce) {
  if (encoded_grant.empty()) {
    return Result<ClientDataHash>(Code::invalid_argument, "The encoded grant is empty.");
  }
  if (nonce.size() < kShowNonceMinBytes) {
    return Result<ClientDataHash>(Code::invalid_argument,
                                  "The show request's nonce must be at least " +
                                      std::to_string(kShowNonceMinBytes) + " random bytes.");
  }
  ClientDataHash hash{};
  if (Status s = crypto::sha256({text_bytes(kShowLabel), encoded_grant, nonce}, hash); !s.ok()) {
    return s;
  }
  return hash;
}

Result<HmacSalt> hmac_salt(const GrantId& grant_id) {
  HmacSalt salt{};
  if (Status s = crypto::sha256({text_bytes(kSaltLabel), grant_id.bytes()}, salt); !s.ok()) {
    return s;
  }
  return salt;
}

Result<YubiKeyChallenge> yubikey_challenge(const GrantId& grant_id) {
  YubiKeyChallenge challenge{};
  if (Status s = crypto::sha512({text_bytes(kChallengeLabel), grant_id.bytes()}, challenge);
      !s.ok()) {
    return s;
  }
  return challenge;
}

Result<SecretBytes> derive_app_password_key(std::span<const std::uint8_t> token_secret,
                                            const GrantId& grant_id) {
  if (token_secret.size() != kFido2SecretBytes && token_secret.size() != kYubiKeySecretBytes) {
    return Result<SecretBytes>(Code::invalid_argument,
                               "The token's secret is " + std::to_string(token_secret.size()) +
                                   " bytes; expected 32 (FIDO2 hmac-secret) or 20 (YubiKey "
                                   "HMAC-SHA1).");
  }
  SecretBytes key(kAppPasswordKeyBytes);
  if (Status s = crypto::hkdf_sha256(token_secret, grant_id.bytes(), text_bytes(kAppPasswordInfo),
                                     key.bytes());
      !s.ok()) {
    return s;  // `key` is wiped by its destructor
  }
  return key;
}

Result<AppPassword> derive_app_password(std::span<const std::uint8_t> token_secret,
                                        const GrantId& grant_id) {
  Result<SecretBytes> key = derive_app_password_key(token_secret, grant_id);
  if (!key.ok()) return key.error();
  return format_password(key->bytes());
}

}  // namespace touchpass
