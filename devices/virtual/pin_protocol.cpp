#include "devices/virtual/pin_protocol.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>

namespace touchpass::vtoken {

namespace {

constexpr std::size_t kKeySize = 32;
constexpr std::size_t kIvSize = 16;
constexpr std::size_t kV1TagSize = 16;

using ByteView = std::span<const std::uint8_t>;

class PinProtocolOne final : public PinProtocol {
 public:
  int version() const override { return 1; }

  SecretBytes kdf(const SecretBytes& z) const override {
    Bytes digest = crypto::sha256(z.bytes());
    SecretBytes key = SecretBytes::copy_of(digest);
    OPENSSL_cleanse(digest.data(), digest.size());
    return key;
  }

  Bytes encrypt(const SecretBytes& shared_secret, ByteView plaintext) const override {
    const std::array<std::uint8_t, kIvSize> iv{};
    auto out = crypto::aes256_cbc_encrypt(shared_secret.bytes().first(kKeySize), iv, plaintext);
    if (!out) throw crypto::CryptoError("plaintext is not a whole number of AES blocks");
    return std::move(*out);
  }

  std::optional<SecretBytes> decrypt(const SecretBytes& shared_secret,
                                     ByteView ciphertext) const override {
    const std::array<std::uint8_t, kIvSize> iv{};
    return crypto::aes256_cbc_decrypt(shared_secret.bytes().first(kKeySize), iv, ciphertext);
  }

  Bytes authenticate(ByteView key, ByteView message) const override {
    SecretBytes mac = crypto::hmac_sha256(key, message);
    return Bytes(mac.data(), mac.data() + kV1TagSize);
  }
};

class PinProtocolTwo final : public PinProtocol {
 public:
  int version() const override { return 2; }

  SecretBytes kdf(const SecretBytes& z) const override {
    const std::array<std::uint8_t, 32> salt{};
    SecretBytes hmac_key =
        crypto::hkdf_sha256(z.bytes(), salt, bytes_of("CTAP2 HMAC key"), kKeySize);
    SecretBytes aes_key = crypto::hkdf_sha256(z.bytes(), salt, bytes_of("CTAP2 AES key"), kKeySize);
    SecretBytes out(2 * kKeySize);
    std::copy(hmac_key.data(), hmac_key.data() + kKeySize, out.data());
    std::copy(aes_key.data(), aes_key.data() + kKeySize, out.data() + kKeySize);
    return out;
  }

  Bytes encrypt(const SecretBytes& shared_secret, ByteView plaintext) const override {
    Bytes out = crypto::random_bytes(kIvSize);
    auto body = crypto::aes256_cbc_encrypt(aes_key(shared_secret), out, plaintext);
    if (!body) throw crypto::CryptoError("plaintext is not a whole number of AES blocks");
    out.insert(out.end(), body->begin(), body->end());
    return out;
  }

  std::optional<SecretBytes> decrypt(const SecretBytes& shared_secret,
                                     ByteView ciphertext) const override {
    if (ciphertext.size() < kIvSize) return std::nullopt;
    return crypto::aes256_cbc_decrypt(aes_key(shared_secret), ciphertext.first(kIvSize),
                                      ciphertext.subspan(kIvSize));
  }

  Bytes authenticate(ByteView key, ByteView message) const override {
    SecretBytes mac = crypto::hmac_sha256(key.first(std::min(key.size(), kKeySize)), message);
    return Bytes(mac.data(), mac.data() + mac.size());
  }

 private:
  // The AES half of a 64-byte shared secret.
  static ByteView aes_key(const SecretBytes& shared_secret) {
    if (shared_secret.size() != 2 * kKeySize) throw crypto::CryptoError("bad shared secret size");
    return shared_secret.bytes().subspan(kKeySize);
  }
};

}  // namespace

bool PinProtocol::verify(ByteView key, ByteView message, ByteView tag) const {
  Bytes expected = authenticate(key, message);
  const bool ok =
      expected.size() == tag.size() && CRYPTO_memcmp(expected.data(), tag.data(), tag.size()) == 0;
  OPENSSL_cleanse(expected.data(), expected.size());
  return ok;
}

std::optional<SecretBytes> PinProtocol::shared_secret(const crypto::P256Key& own,
                                                      ByteView platform_x,
                                                      ByteView platform_y) const {
  auto peer = crypto::P256Key::from_public(platform_x, platform_y);
  if (!peer) return std::nullopt;
  return kdf(own.ecdh_x(*peer));
}

const PinProtocol* find_pin_protocol(std::int64_t version) {
  static const PinProtocolOne one;
  static const PinProtocolTwo two;
  if (version == 1) return &one;
  if (version == 2) return &two;
  return nullptr;
}

}  // namespace touchpass::vtoken
