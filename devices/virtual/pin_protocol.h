// PIN/UV auth protocols 1 and 2 (CTAP 2.1 §6.5.6, §6.5.7) from the authenticator's side: the
// shared secret derived from an ECDH exchange, and encrypt / decrypt / authenticate / verify.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "core/bytes.h"
#include "core/secret.h"
#include "devices/virtual/crypto.h"

namespace touchpass::vtoken {

class PinProtocol {
 public:
  virtual ~PinProtocol() = default;

  // 1 or 2.
  virtual int version() const = 0;

  // The shared secret from the ECDH x-coordinate Z. Protocol 1: SHA-256(Z) (32 bytes).
  // Protocol 2: HKDF(Z, "CTAP2 HMAC key") || HKDF(Z, "CTAP2 AES key") (64 bytes).
  virtual SecretBytes kdf(const SecretBytes& z) const = 0;

  // Encrypts `plaintext` (a whole number of 16-byte blocks) under a shared secret.
  // Protocol 1: AES-256-CBC with a zero IV. Protocol 2: random IV || AES-256-CBC under the AES
  // half of the secret. Precondition: plaintext.size() % 16 == 0.
  virtual Bytes encrypt(const SecretBytes& shared_secret,
                        std::span<const std::uint8_t> plaintext) const = 0;

  // The inverse of encrypt(); nullopt when `ciphertext` has an impossible length.
  virtual std::optional<SecretBytes> decrypt(const SecretBytes& shared_secret,
                                             std::span<const std::uint8_t> ciphertext) const = 0;

  // The authentication tag of `message` under `key` (a shared secret or a pinUvAuthToken).
  // Protocol 1: HMAC-SHA-256[0:16]. Protocol 2: HMAC-SHA-256 with the first 32 bytes of key.
  virtual Bytes authenticate(std::span<const std::uint8_t> key,
                             std::span<const std::uint8_t> message) const = 0;

  // Whether `tag` is authenticate(key, message) (constant-time comparison).
  bool verify(std::span<const std::uint8_t> key, std::span<const std::uint8_t> message,
              std::span<const std::uint8_t> tag) const;

  // The shared secret with the platform key (x, y): kdf(ECDH x-coordinate). nullopt when the
  // platform key is not a valid P-256 point.
  std::optional<SecretBytes> shared_secret(const crypto::P256Key& own,
                                           std::span<const std::uint8_t> platform_x,
                                           std::span<const std::uint8_t> platform_y) const;
};

// The protocol with this number, or nullptr for an unknown one.
const PinProtocol* find_pin_protocol(std::int64_t version);

}  // namespace touchpass::vtoken
