// Grant: the record of one app password, and its canonical encoding enc(G) (DESIGN.md §5.1,
// normative). The password is derived from the token's answer to a request bound to enc(G)
// and to the grant id, so every byte written here is part of the grant format: change it only
// with a new version.
//
//   enc(G) = deterministic CBOR (RFC 8949 §4.2.1) of the map
//     { 1: version            uint, 1 or 2
//       2: grant_id           bstr, 16 random bytes
//       3: user               tstr, the Unix user name
//       4: name               tstr, e.g. "thunderbird"
//       5: scopes             array of tstr, sorted bytewise, each once
//       6: created            uint, Unix seconds
//       7: expires            uint, Unix seconds, 0 = never
//       8: kind               tstr, "fido2" or "yubikey"
//       9: credential         bstr, the FIDO2 credential id, or for a YubiKey
//                                   serial (4 bytes, big-endian) || slot (1 byte, 1 or 2)
//      10: rp_id              tstr, the WebAuthn relying party id; v2 FIDO2 grants only }
//
// This header does no I/O and draws no randomness: callers supply the grant id and times.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"

namespace touchpass {

// The grant format versions (DESIGN.md §5.2, §5.3): v1 grants keep verifying and can be shown
// again; v2 is the browser-compatible derivation.
inline constexpr std::uint64_t kGrantVersionV1 = 1;
inline constexpr std::uint64_t kGrantVersionV2 = 2;
// The version this build issues (DESIGN.md §5: new grants are v2).
inline constexpr std::uint64_t kGrantVersion = kGrantVersionV2;

// Limits enforced by validate_grant.
inline constexpr std::size_t kMaxUserBytes = 256;                // LOGIN_NAME_MAX on Linux
inline constexpr std::size_t kMaxNameChars = 64;                 // Unicode code points
inline constexpr std::size_t kMaxScopeChars = 32;                // ASCII, [a-z0-9_-]
inline constexpr std::size_t kMaxFido2CredentialIdBytes = 1023;  // WebAuthn's bound
inline constexpr std::size_t kYubiKeyCredentialBytes = 5;
inline constexpr std::size_t kMaxRpIdBytes = 253;  // a DNS name

// GrantId: the 16 random bytes that name a grant; also the HKDF salt and the input of the
// hmac-secret salt and the YubiKey challenge. A distinct type so that a credential id or a
// digest is never passed where a grant id is meant. Callers draw it from a CSPRNG.
class GrantId {
 public:
  static constexpr std::size_t kSize = 16;

  // All zero, i.e. "not set"; validate_grant rejects it.
  GrantId() = default;
  explicit GrantId(const std::array<std::uint8_t, kSize>& bytes) : bytes_(bytes) {}

  // The grant id held in `bytes`; invalid_argument unless exactly 16 bytes.
  static Result<GrantId> from_bytes(std::span<const std::uint8_t> bytes);

  std::span<const std::uint8_t, kSize> bytes() const { return bytes_; }
  bool is_zero() const;

  friend bool operator==(const GrantId&, const GrantId&) = default;

 private:
  std::array<std::uint8_t, kSize> bytes_{};
};

// Which kind of token holds the secret the password is derived from.
enum class TokenKind : std::uint8_t { fido2, yubikey };

// "fido2" or "yubikey": the exact text written into enc(G) (key 8).
std::string_view token_kind_name(TokenKind kind);
// The inverse of token_kind_name; nullopt for any other text.
std::optional<TokenKind> token_kind_from_name(std::string_view name);

struct Grant {
  std::uint64_t version = kGrantVersionV1;  // new grants: kGrantVersion
  GrantId grant_id;
  std::string user;  // Unix user name (from the peer's credentials, never from the client)
  std::string name;  // what the user calls this password, e.g. "thunderbird" or "phone mail"
  // Services the password may be used for. A set: its order never affects enc(G).
  std::vector<std::string> scopes;
  std::uint64_t created = 0;  // Unix seconds
  std::uint64_t expires = 0;  // Unix seconds; 0 = never
  TokenKind kind = TokenKind::fido2;
  Bytes credential;   // see the header comment, key 9
  std::string rp_id;  // key 10: v2 FIDO2 grants only, empty otherwise
};

// The scopes as enc(G) writes them: sorted bytewise (std::string's ordering, which compares
// chars as unsigned) with repeats removed.
std::vector<std::string> canonical_scopes(std::vector<std::string> scopes);

// enc(G), the canonical deterministic CBOR encoding above. Total: it encodes whatever it is
// given (scopes via canonical_scopes), so two grants that differ only in scope order or
// repetition encode identically. It does not validate: call validate_grant first; an invalid
// grant must never be issued.
Bytes encode_grant(const Grant& grant);

// Success if `name` may name an app password (validate_grant's rule for `name`), else
// invalid_argument with a sentence naming the problem (the name itself is not echoed).
Status validate_grant_name(std::string_view name);

// Success if `scopes` may be a grant's scopes (validate_grant's rule for `scopes`), else
// invalid_argument with a sentence naming the problem.
Status validate_grant_scopes(const std::vector<std::string>& scopes);

// Success if `grant` may be issued, else invalid_argument with a sentence naming the problem.
// Rules (the first one broken is reported):
//   version    1 or 2
//   grant_id   not all zero (a default-constructed id was never set)
//   user       1..256 bytes of valid UTF-8; no control characters, whitespace, ':' or '/';
//              not starting with '-'
//   name       1..64 code points of valid UTF-8; no control characters (C0, DEL, C1, line and
//              paragraph separators, bidirectional overrides and isolates); no leading or
//              trailing space
//   scopes     each 1..32 characters of [a-z0-9_-]; no scope twice (a repeat is a mistake in
//              the request, so it is refused rather than silently merged); may be empty
//   expires    0, or later than created
//   credential fido2: 1..1023 bytes; yubikey: exactly 5 bytes with slot byte 1 or 2
//   rp_id      v2 FIDO2: a lower-case DNS name of 1..253 bytes ([a-z0-9.-], no empty label,
//              no label starting or ending with '-'); every other grant: empty
Status validate_grant(const Grant& grant);

// The two HMAC-SHA1 challenge-response slots of a YubiKey's OTP application.
enum class YubiKeySlot : std::uint8_t { one = 1, two = 2 };

// What a YubiKey grant's credential (key 9) names: one slot of one YubiKey.
struct YubiKeyCredential {
  std::uint32_t serial = 0;
  YubiKeySlot slot = YubiKeySlot::one;

  friend bool operator==(const YubiKeyCredential&, const YubiKeyCredential&) = default;
};

// serial as 4 bytes big-endian, then the slot byte (1 or 2).
Bytes encode_yubikey_credential(const YubiKeyCredential& credential);

// The inverse of encode_yubikey_credential; invalid_argument unless `bytes` is 5 bytes ending
// in 1 or 2.
Result<YubiKeyCredential> parse_yubikey_credential(std::span<const std::uint8_t> bytes);

}  // namespace touchpass
