// App-password derivation, versions 1 and 2 (DESIGN.md §5, normative). H = SHA-256,
// || = concatenation, labels are ASCII without terminator, G is a validated Grant and enc(G)
// its encoding (grant.h). A grant's version (key 1 of enc(G)) selects the labels; every
// function takes it and refuses any version but 1 and 2 with invalid_argument.
//
//   FIDO2: one getAssertion per grant, bound to
//     v1  clientDataHash = H("touchpass/v1/grant" || enc(G))          grant_challenge
//     v2  challenge C = H("touchpass/v2/grant" || enc(G)), signed as part of a WebAuthn
//         clientDataJSON (webauthn.h): clientDataHash = H(clientDataJSON)
//     hmac-secret salt1:
//     v1  H("touchpass/v1/salt" || grant_id)                           hmac_salt
//     v2  H("WebAuthn PRF" || 0x00 || P), P = "touchpass/v2/salt" || grant_id   (prf_input)
//         which is exactly what a browser sends for prf.eval.first = P
//     S = the 32-byte hmac-secret (or PRF) output
//   YubiKey: HMAC-SHA1 challenge-response with
//     challenge = SHA-512("touchpass/vN/challenge" || grant_id)         yubikey_challenge
//     S = the 20-byte response
//   Both:
//     K = HKDF-SHA-256(ikm = S, salt = grant_id,
//                      info = "touchpass/vN/app-password", L = 13)      derive_app_password_key
//     password = first 100 bits of K in base32, grouped                 format_password
//   Show: the same salt or challenge, so the same S and password; for FIDO2 the assertion signs
//     H("touchpass/vN/show" || enc(G) || nonce)                         show_challenge
//   (v1: as the clientDataHash; v2: as the clientDataJSON challenge), where the nonce is at
//   least 16 bytes the caller drew from a CSPRNG for this request.
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

#include "core/bytes.h"
#include "core/grant.h"
#include "core/password.h"
#include "core/secret.h"
#include "core/status.h"

namespace touchpass {

// The label WebAuthn's PRF extension puts before its input (WebAuthn L3 §10.1.4).
inline constexpr std::string_view kWebAuthnPrfLabel = "WebAuthn PRF";

inline constexpr std::size_t kShowNonceMinBytes = 16;
// Sizes of S: the hmac-secret output (FIDO2) and the HMAC-SHA1 response (YubiKey).
inline constexpr std::size_t kFido2SecretBytes = 32;
inline constexpr std::size_t kYubiKeySecretBytes = 20;

// A SHA-256 digest the token signs: v1 the clientDataHash itself, v2 the challenge inside
// clientDataJSON.
using GrantChallenge = std::array<std::uint8_t, 32>;
using HmacSalt = std::array<std::uint8_t, 32>;
using YubiKeyChallenge = std::array<std::uint8_t, 64>;

// H("touchpass/vN/grant" || encoded_grant): what the token signs when grant `version` is
// issued. `encoded_grant` is encode_grant(G). invalid_argument if it is empty or the version is
// unknown; internal if OpenSSL fails.
Result<GrantChallenge> grant_challenge(std::uint64_t version,
                                       std::span<const std::uint8_t> encoded_grant);

// H("touchpass/vN/show" || encoded_grant || nonce): what the token signs when an existing
// grant's password is shown again. invalid_argument if `encoded_grant` is empty, `nonce` is
// shorter than 16 bytes or the version is unknown; internal if OpenSSL fails.
Result<GrantChallenge> show_challenge(std::uint64_t version,
                                      std::span<const std::uint8_t> encoded_grant,
                                      std::span<const std::uint8_t> nonce);

// P = "touchpass/v2/salt" || grant_id: the WebAuthn PRF input of a v2 grant (what a browser
// passes as prf.eval.first). Total.
Bytes prf_input(const GrantId& grant_id);

// The hmac-secret salt1 (FIDO2) of grant `version`: v1 H("touchpass/v1/salt" || grant_id),
// v2 H("WebAuthn PRF" || 0x00 || prf_input(grant_id)). invalid_argument if the version is
// unknown; internal if OpenSSL fails.
Result<HmacSalt> hmac_salt(std::uint64_t version, const GrantId& grant_id);

// SHA-512("touchpass/vN/challenge" || grant_id): the 64-byte challenge (YubiKey).
// invalid_argument if the version is unknown; internal if OpenSSL fails.
Result<YubiKeyChallenge> yubikey_challenge(std::uint64_t version, const GrantId& grant_id);

// K = HKDF-SHA-256(ikm = token_secret, salt = grant_id, info = "touchpass/vN/app-password",
// L = 13). `token_secret` is S: 32 bytes (FIDO2) or 20 bytes (YubiKey); any other size is
// refused with invalid_argument, since a short or empty S would give a guessable password, as
// is an unknown version. internal if OpenSSL fails. The caller still owns (and wipes)
// `token_secret`.
Result<SecretBytes> derive_app_password_key(std::uint64_t version,
                                            std::span<const std::uint8_t> token_secret,
                                            const GrantId& grant_id);

// The app password of a grant, from the token's S: derive_app_password_key, then
// format_password; K is wiped before returning. Errors as derive_app_password_key.
Result<AppPassword> derive_app_password(std::uint64_t version,
                                        std::span<const std::uint8_t> token_secret,
                                        const GrantId& grant_id);

}  // namespace touchpass
