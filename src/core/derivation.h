// App-password derivation v1 (DESIGN.md §5, normative). H = SHA-256, || = concatenation,
// labels are ASCII without terminator, G is a validated Grant and enc(G) its encoding
// (grant.h).
//
//   FIDO2 (§5.2): one getAssertion with
//     clientDataHash = H("touchpass/v1/grant" || enc(G))          client_data_hash_for_grant
//     hmac-secret salt1 = H("touchpass/v1/salt" || grant_id)      hmac_salt
//     S = the 32-byte hmac-secret output
//   YubiKey (§5.3): HMAC-SHA1 challenge-response with
//     challenge = SHA-512("touchpass/v1/challenge" || grant_id)   yubikey_challenge (64 bytes)
//     S = the 20-byte response
//   Both (§5.4):
//     K = HKDF-SHA-256(ikm = S, salt = grant_id,
//                      info = "touchpass/v1/app-password", L = 13) derive_app_password_key
//     password = first 100 bits of K in base32, grouped            format_password
//                                                                  (password.h)
//   Show (§5.6): the same salt or challenge, so the same S and password; for FIDO2 the
//   assertion signs a fresh
//     clientDataHash = H("touchpass/v1/show" || enc(G) || nonce)  client_data_hash_for_show
//   where the nonce is at least 16 bytes the caller drew from a CSPRNG for this request.
//
// enc(G) is a single self-delimiting CBOR item, so "enc(G) || nonce" splits one way only; the
// distinct labels keep the grant, show, salt and challenge inputs apart. Secrets (S, K, the
// password) are only ever held in SecretBytes or AppPassword, which wipe themselves.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/grant.h"
#include "core/password.h"
#include "core/secret.h"
#include "core/status.h"

namespace touchpass {

inline constexpr std::string_view kGrantLabel = "touchpass/v1/grant";
inline constexpr std::string_view kShowLabel = "touchpass/v1/show";
inline constexpr std::string_view kSaltLabel = "touchpass/v1/salt";
inline constexpr std::string_view kChallengeLabel = "touchpass/v1/challenge";
inline constexpr std::string_view kAppPasswordInfo = "touchpass/v1/app-password";

inline constexpr std::size_t kShowNonceMinBytes = 16;
// Sizes of S: the hmac-secret output (FIDO2) and the HMAC-SHA1 response (YubiKey).
inline constexpr std::size_t kFido2SecretBytes = 32;
inline constexpr std::size_t kYubiKeySecretBytes = 20;

using ClientDataHash = std::array<std::uint8_t, 32>;
using HmacSalt = std::array<std::uint8_t, 32>;
using YubiKeyChallenge = std::array<std::uint8_t, 64>;

// H("touchpass/v1/grant" || encoded_grant): the clientDataHash the token signs when a grant is
// issued. `encoded_grant` is encode_grant(G). invalid_argument if it is empty; internal if
// OpenSSL fails.
Result<ClientDataHash> client_data_hash_for_grant(std::span<const std::uint8_t> encoded_grant);

// H("touchpass/v1/show" || encoded_grant || nonce): the clientDataHash the token signs when an
// existing grant's password is shown again. invalid_argument if `encoded_grant` is empty or
// `nonce` is shorter than 16 bytes; internal if OpenSSL fails.
Result<ClientDataHash> client_data_hash_for_show(std::span<const std::uint8_t> encoded_grant,
                                                 std::span<const std::uint8_t> nonce);

// H("touchpass/v1/salt" || grant_id): the hmac-secret salt1 (FIDO2). internal if OpenSSL fails.
Result<HmacSalt> hmac_salt(const GrantId& grant_id);

// SHA-512("touchpass/v1/challenge" || grant_id): the 64-byte challenge (YubiKey). internal if
// OpenSSL fails.
Result<YubiKeyChallenge> yubikey_challenge(const GrantId& grant_id);

// K = HKDF-SHA-256(ikm = token_secret, salt = grant_id, info = "touchpass/v1/app-password",
// L = 13). `token_secret` is S: 32 bytes (FIDO2) or 20 bytes (YubiKey); any other size is
// refused with invalid_argument, since a short or empty S would give a guessable password.
// internal if OpenSSL fails. The caller still owns (and wipes) `token_secret`.
Result<SecretBytes> derive_app_password_key(std::span<const std::uint8_t> token_secret,
                                            const GrantId& grant_id);

// The app password of a grant, from the token's S: derive_app_password_key, then
// format_password; K is wiped before returning. Errors as derive_app_password_key.
Result<AppPassword> derive_app_password(std::span<const std::uint8_t> token_secret,
                                        const GrantId& grant_id);

}  // namespace touchpass
