// Thin RAII wrappers over OpenSSL 3 for the virtual token: P-256 keys (ECDSA, ECDH), AES-256-CBC
// without padding, HMAC-SHA-256, HKDF-SHA-256, SHA-256, random bytes and a self-signed
// attestation certificate.
//
// Failures of OpenSSL itself (out of memory, a broken library) throw CryptoError: they are
// internal errors, caught by the authenticator's top level. Failures caused by input (an invalid
// public point, a ciphertext of the wrong length) are reported through the return value.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>

#include "core/bytes.h"
#include "core/secret.h"

namespace touchpass::vtoken::crypto {

// An OpenSSL call failed for a reason that is not the caller's input.
class CryptoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using ByteView = std::span<const std::uint8_t>;

inline constexpr std::size_t kP256CoordinateSize = 32;

// A P-256 key: a key pair (generate, from_private_der) or a public key only (from_public).
class P256Key {
 public:
  // A fresh random key pair.
  static P256Key generate();
  // The key pair encoded by private_der(); nullopt when `der` is not a P-256 private key.
  static std::optional<P256Key> from_private_der(ByteView der);
  // The public key with affine coordinates x, y (32 bytes each, big endian); nullopt when they
  // are not 32 bytes each or not a point on the curve.
  static std::optional<P256Key> from_public(ByteView x, ByteView y);

  // The affine coordinates of the public key, 32 bytes each.
  Bytes x() const;
  Bytes y() const;
  // The key pair as DER (SEC 1 ECPrivateKey). Precondition: a key pair.
  SecretBytes private_der() const;
  // An ECDSA-SHA-256 signature (DER) of `message`. Precondition: a key pair.
  Bytes sign(ByteView message) const;
  // The ECDH shared secret with `peer`: the 32-byte x-coordinate of d * peer.
  // Precondition: *this is a key pair.
  SecretBytes ecdh_x(const P256Key& peer) const;

  EVP_PKEY* get() const { return key_.get(); }

 private:
  struct Free {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
  };
  explicit P256Key(EVP_PKEY* key) : key_(key) {}
  Bytes coordinate(const char* param) const;
  std::unique_ptr<EVP_PKEY, Free> key_;
};

// a || b, e.g. authData || clientDataHash, the message of an assertion signature.
inline Bytes concat(ByteView a, ByteView b) {
  Bytes out(a.begin(), a.end());
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

// `n` random bytes from touchpass's one random source (core/random.h); throws when it fails.
Bytes random_bytes(std::size_t n);
SecretBytes random_secret(std::size_t n);

// SHA-256 of `data` (32 bytes).
Bytes sha256(ByteView data);

// HMAC-SHA-256 of `data` under `key` (32 bytes).
SecretBytes hmac_sha256(ByteView key, ByteView data);

// HKDF-SHA-256 (RFC 5869) output of `length` bytes.
SecretBytes hkdf_sha256(ByteView ikm, ByteView salt, ByteView info, std::size_t length);

// AES-256-CBC without padding. `key` is 32 bytes, `iv` 16 bytes; nullopt when the input is not
// a whole number of 16-byte blocks.
std::optional<Bytes> aes256_cbc_encrypt(ByteView key, ByteView iv, ByteView plaintext);
std::optional<SecretBytes> aes256_cbc_decrypt(ByteView key, ByteView iv, ByteView ciphertext);

// A self-signed X.509 v3 attestation certificate (DER) for `key`: subject C=US, O=touchpass,
// OU=Authenticator Attestation, CN=touchpass virtual token; basicConstraints CA:FALSE; the FIDO
// AAGUID extension (1.3.6.1.4.1.45724.1.1.4) holding `aaguid`; valid for 20 years.
Bytes make_attestation_certificate(const P256Key& key, ByteView aaguid);

}  // namespace touchpass::vtoken::crypto
