// FixedP256Key: a P-256 key pair whose private scalar is fixed by a label in the source, for fuzz
// targets that must make valid ES256 signatures (seeds, and inputs the harness signs so that the
// checks after the signature are reached) or ECDH agreements. Signing derives its nonce from the
// key and the message, so every run produces the same bytes: seeds and runs stay reproducible.
// A test key only: never use this construction for anything real.
#pragma once

#include <openssl/bn.h>
#include <openssl/ec.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "core/bytes.h"

namespace touchpass::fuzzing {

class FixedP256Key {
 public:
  // The key whose private scalar is SHA-256("touchpass fuzz key " || label) mod n. Aborts if
  // OpenSSL fails (a broken harness is not a finding).
  explicit FixedP256Key(std::string_view label);

  // The affine coordinates of the public key, 32 bytes each, and x || y (the form the store
  // and ipc offers use).
  const Bytes& x() const { return x_; }
  const Bytes& y() const { return y_; }
  Bytes raw() const;
  // The public key as a COSE_Key {1: 2, 3: alg, -1: 1, -2: x, -3: y}, canonically ordered.
  Bytes cose_key(std::int64_t alg = -7) const;
  // The private key as DER (SEC 1 ECPrivateKey with the curve and the public key).
  Bytes private_der() const;

  // ECDSA P-256 / SHA-256 signature of `message`, DER; the nonce is HMAC-SHA-256 of the hashed
  // message under the private scalar, so the same message always gives the same signature.
  Bytes sign(std::span<const std::uint8_t> message) const;

  // The x-coordinate (32 bytes) of d * (x, y): the ECDH shared secret Z with that public key;
  // nullopt when (x, y) is not a point on P-256.
  std::optional<Bytes> ecdh_x(std::span<const std::uint8_t> x,
                              std::span<const std::uint8_t> y) const;

 private:
  struct GroupFree {
    void operator()(EC_GROUP* g) const { EC_GROUP_free(g); }
  };
  struct BnFree {
    void operator()(BIGNUM* b) const { BN_clear_free(b); }
  };
  std::unique_ptr<EC_GROUP, GroupFree> group_;
  std::unique_ptr<BIGNUM, BnFree> d_;
  Bytes x_;
  Bytes y_;
};

}  // namespace touchpass::fuzzing
