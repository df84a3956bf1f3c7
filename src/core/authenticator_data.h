// WebAuthn authenticator data (WebAuthn L3 §6.1, CTAP 2.1 §6.1), as a key returns it inside an
// attestation or assertion, and the COSE public key of a credential (RFC 9053). touchpassd
// parses what the client relays and checks what binds it to this relying party and credential.
// CBOR (the COSE key, the extension outputs) is read with libcbor. Pure: no I/O.
//
//   rpIdHash (32) | flags (1) | signCount (4, big endian)
//   | [AT: aaguid (16) | credentialIdLength (2) | credentialId | COSE_Key]
//   | [ED: extension outputs, a CBOR map]
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/bytes.h"
#include "core/status.h"

namespace touchpass {

inline constexpr std::size_t kMaxAuthenticatorDataBytes = 4096;

inline constexpr std::uint8_t kAuthFlagUp = 0x01;  // user present (touched)
inline constexpr std::uint8_t kAuthFlagUv = 0x04;  // user verified (PIN or biometrics)
inline constexpr std::uint8_t kAuthFlagAt = 0x40;  // attested credential data follows
inline constexpr std::uint8_t kAuthFlagEd = 0x80;  // extension outputs follow

inline constexpr std::int64_t kCoseAlgEs256 = -7;

// The attested credential data of a new credential.
struct AttestedCredentialData {
  std::array<std::uint8_t, 16> aaguid{};
  Bytes credential_id;
  Bytes cose_key;  // the COSE_Key as encoded (parse_cose_public_key reads it)
};

struct AuthenticatorData {
  std::array<std::uint8_t, 32> rp_id_hash{};
  std::uint8_t flags = 0;
  std::uint32_t sign_count = 0;
  std::optional<AttestedCredentialData> attested;  // present iff flags has AT
  Bytes extensions;                                // the encoded map; empty unless flags has ED

  bool user_present() const { return (flags & kAuthFlagUp) != 0; }
  bool user_verified() const { return (flags & kAuthFlagUv) != 0; }
};

// Parses `bytes`. malformed_reply with a sentence when it is larger than
// kMaxAuthenticatorDataBytes, shorter than its fixed part, a flag promises data that is not
// there (or is not one well-formed CBOR item), or bytes are left over.
Result<AuthenticatorData> parse_authenticator_data(std::span<const std::uint8_t> bytes);

// An ES256 public key: the affine coordinates of a P-256 point, 32 bytes each.
struct Es256PublicKey {
  std::array<std::uint8_t, 32> x{};
  std::array<std::uint8_t, 32> y{};
  // x || y, the form the store keeps.
  Bytes raw() const;
  // The key stored as x || y (64 bytes), or 0x04 || x || y (65); nullopt for any other form.
  // Whether it is a point on the curve is checked when it verifies a signature.
  static std::optional<Es256PublicKey> from_raw(std::span<const std::uint8_t> stored);
};

// Reads a COSE_Key {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}. capability_missing
// for a well-formed key of another type or algorithm (the sentence names it); malformed_reply
// when it is not a CBOR map with those members or bytes are left over. The point is not
// checked to be on the curve here: verify_es256_signature does that.
Result<Es256PublicKey> parse_cose_public_key(std::span<const std::uint8_t> cose_key);

// Whether the extension outputs of `data` hold `name` with the value true (e.g. "hmac-secret"
// after makeCredential); false when there are none or it is absent or not true.
bool extension_is_true(const AuthenticatorData& data, std::string_view name);

// SHA-256 of the relying party id, as the key puts in rpIdHash. internal if OpenSSL fails.
Result<std::array<std::uint8_t, 32>> rp_id_hash(std::string_view rp_id);

}  // namespace touchpass
