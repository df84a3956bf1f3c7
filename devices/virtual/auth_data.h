// Encoders for the byte structures a CTAP2 authenticator signs and returns: authenticator data
// (CTAP 2.1 §6.1, WebAuthn §6.1) and COSE public keys.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "core/bytes.h"
#include "devices/virtual/crypto.h"

namespace touchpass::vtoken {

// authData flags.
inline constexpr std::uint8_t kFlagUp = 0x01;
inline constexpr std::uint8_t kFlagUv = 0x04;
inline constexpr std::uint8_t kFlagAt = 0x40;
inline constexpr std::uint8_t kFlagEd = 0x80;

// COSE algorithm identifiers.
inline constexpr std::int64_t kCoseEs256 = -7;
inline constexpr std::int64_t kCoseEcdhEsHkdf256 = -25;

// The attested credential data of makeCredential.
struct AttestedCredential {
  std::span<const std::uint8_t> aaguid;         // 16 bytes
  std::span<const std::uint8_t> credential_id;  // at most 65535 bytes
  std::span<const std::uint8_t> cose_key;       // encoded COSE key
};

// rpIdHash(32) | flags | signCount (big endian) | [attested credential] | [extensions].
// The AT flag is added when `attested` is given, ED when `extensions` (an encoded CBOR map) is.
Bytes encode_auth_data(std::span<const std::uint8_t> rp_id_hash, std::uint8_t flags,
                       std::uint32_t sign_count, const std::optional<AttestedCredential>& attested,
                       const std::optional<Bytes>& extensions);

// The COSE_Key {1: 2 (EC2), 3: alg, -1: 1 (P-256), -2: x, -3: y} of a P-256 public key.
Bytes encode_cose_key(const crypto::P256Key& key, std::int64_t alg);

}  // namespace touchpass::vtoken
