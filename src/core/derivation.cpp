#include "core/derivation.h"

#include <algorithm>
#include <string>
#include <utility>

#include "core/crypto.h"

namespace touchpass {

using crypto::text_bytes;

namespace {

// The strings of one grant format version (DESIGN.md §5.2, §5.3).
struct Labels {
  std::string_view grant;
  std::string_view show;
  std::string_view salt;
  std::string_view challenge;
  std::string_view app_password;
};

constexpr Labels kV1{"touchpass/v1/grant", "touchpass/v1/show", "touchpass/v1/salt",
                     "touchpass/v1/challenge", "touchpass/v1/app-password"};
constexpr Labels kV2{"touchpass/v2/grant", "touchpass/v2/show", "touchpass/v2/salt",
                     "touchpass/v2/challenge", "touchpass/v2/app-password"};

Result<Labels> labels_of(std::uint64_t version) {
  if (version == kGrantVersionV1) return kV1;
  if (version == kGrantVersionV2) return kV2;
  return Result<Labels>(Code::invalid_argument,
                        "Grant format version " + std::to_string(version) +
                            " has no derivation; this build knows 1 and 2.");
}

Status check_encoded(std::span<const std::uint8_t> encoded_grant) {
  if (encoded_grant.empty()) return Status(Code::invalid_argument, "The encoded grant is empty.");
  return Status::success();
}

}  // namespace

Result<GrantChallenge> grant_challenge(std::uint64_t version,
                                       std::span<const std::uint8_t> encoded_grant) {
  const Result<Labels> labels = labels_of(version);
  if (!labels.ok()) return labels.error();
  if (Status s = check_encoded(encoded_grant); !s.ok()) return s;
  GrantChallenge hash{};
  if (Status s = crypto::sha256({text_bytes(labels->grant), encoded_grant}, hash); !s.ok()) {
    return s;
  }
  return hash;
}

Result<GrantChallenge> show_challenge(std::uint64_t version,
                                      std::span<const std::uint8_t> encoded_grant,
                                      std::span<const std::uint8_t> nonce) {
  const Result<Labels> labels = labels_of(version);
  if (!labels.ok()) return labels.error();
  if (Status s = check_encoded(encoded_grant); !s.ok()) return s;
  if (nonce.size() < kShowNonceMinBytes) {
    return Result<GrantChallenge>(Code::invalid_argument,
                                  "The show request's nonce must be at least " +
                                      std::to_string(kShowNonceMinBytes) + " random bytes.");
  }
  GrantChallenge hash{};
  if (Status s = crypto::sha256({text_bytes(labels->show), encoded_grant, nonce}, hash); !s.ok()) {
    return s;
  }
  return hash;
}

Bytes prf_input(const GrantId& grant_id) {
  Bytes p(kV2.salt.size() + GrantId::kSize);
  const auto after_label = std::copy(kV2.salt.begin(), kV2.salt.end(), p.begin());
  std::copy(grant_id.bytes().begin(), grant_id.bytes().end(), after_label);
  return p;
}

Result<HmacSalt> hmac_salt(std::uint64_t version, const GrantId& grant_id) {
  const Result<Labels> labels = labels_of(version);
  if (!labels.ok()) return labels.error();
  HmacSalt salt{};
  Status s;
  if (version == kGrantVersionV1) {
    s = crypto::sha256({text_bytes(labels->salt), grant_id.bytes()}, salt);
  } else {
    const std::uint8_t separator[1] = {0x00};
    s = crypto::sha256({text_bytes(kWebAuthnPrfLabel), separator, prf_input(grant_id)}, salt);
  }
  if (!s.ok()) return s;
  return salt;
}

Result<YubiKeyChallenge> yubikey_challenge(std::uint64_t version, const GrantId& grant_id) {
  const Result<Labels> labels = labels_of(version);
  if (!labels.ok()) return labels.error();
  YubiKeyChallenge challenge{};
  if (Status s = crypto::sha512({text_bytes(labels->challenge), grant_id.bytes()}, challenge);
      !s.ok()) {
    return s;
  }
  return challenge;
}

Result<SecretBytes> derive_app_password_key(std::uint64_t version,
                                            std::span<const std::uint8_t> token_secret,
                                            const GrantId& grant_id) {
  const Result<Labels> labels = labels_of(version);
  if (!labels.ok()) return labels.error();
  if (token_secret.size() != kFido2SecretBytes && token_secret.size() != kYubiKeySecretBytes) {
    return Result<SecretBytes>(Code::invalid_argument,
                               "The token's secret is " + std::to_string(token_secret.size()) +
                                   " bytes; expected 32 (FIDO2 hmac-secret) or 20 (YubiKey "
                                   "HMAC-SHA1).");
  }
  SecretBytes key(kAppPasswordKeyBytes);
  if (Status s = crypto::hkdf_sha256(token_secret, grant_id.bytes(),
                                     text_bytes(labels->app_password), key.bytes());
      !s.ok()) {
    return s;  // `key` is wiped by its destructor
  }
  return key;
}

Result<AppPassword> derive_app_password(std::uint64_t version,
                                        std::span<const std::uint8_t> token_secret,
                                        const GrantId& grant_id) {
  Result<SecretBytes> key = derive_app_password_key(version, token_secret, grant_id);
  if (!key.ok()) return key.error();
  return format_password(key->bytes());
}

}  // namespace touchpass
