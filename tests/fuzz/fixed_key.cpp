#include "fixed_key.h"

#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <string>

#include "core/cbor_writer.h"

namespace touchpass::fuzzing {

namespace {

constexpr int kCoordinateBytes = 32;

struct PointFree {
  void operator()(EC_POINT* p) const { EC_POINT_free(p); }
};
struct CtxFree {
  void operator()(BN_CTX* c) const { BN_CTX_free(c); }
};
struct SigFree {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
using PointPtr = std::unique_ptr<EC_POINT, PointFree>;
using BnPtr = std::unique_ptr<BIGNUM, decltype(&BN_clear_free)>;

void require(bool ok) {
  if (!ok) std::abort();
}

BnPtr bn(BIGNUM* b) {
  require(b != nullptr);
  return BnPtr(b, &BN_clear_free);
}

Bytes coordinate(const BIGNUM* v) {
  Bytes out(kCoordinateBytes);
  require(BN_bn2binpad(v, out.data(), kCoordinateBytes) == kCoordinateBytes);
  return out;
}

}  // namespace

FixedP256Key::FixedP256Key(std::string_view label)
    : group_(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)), d_(BN_new()) {
  require(group_ && d_);
  const std::string seed = "touchpass fuzz key " + std::string(label);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  require(SHA256(reinterpret_cast<const unsigned char*>(seed.data()), seed.size(), digest) !=
          nullptr);
  std::unique_ptr<BN_CTX, CtxFree> ctx(BN_CTX_new());
  require(ctx && BN_bin2bn(digest, sizeof digest, d_.get()) != nullptr &&
          BN_nnmod(d_.get(), d_.get(), EC_GROUP_get0_order(group_.get()), ctx.get()) == 1 &&
          !BN_is_zero(d_.get()));
  PointPtr q(EC_POINT_new(group_.get()));
  BnPtr x = bn(BN_new());
  BnPtr y = bn(BN_new());
  require(q && EC_POINT_mul(group_.get(), q.get(), d_.get(), nullptr, nullptr, ctx.get()) == 1 &&
          EC_POINT_get_affine_coordinates(group_.get(), q.get(), x.get(), y.get(), ctx.get()) == 1);
  x_ = coordinate(x.get());
  y_ = coordinate(y.get());
}

Bytes FixedP256Key::raw() const {
  Bytes out = x_;
  out.insert(out.end(), y_.begin(), y_.end());
  return out;
}

Bytes FixedP256Key::cose_key(std::int64_t alg) const {
  CborWriter w;
  w.map(5).uint(1).uint(2).uint(3).nint(alg);
  w.nint(-1).uint(1).nint(-2).bytes(x_).nint(-3).bytes(y_);
  return w.take();
}

Bytes FixedP256Key::private_der() const {
  // SEC 1: SEQUENCE { 1, OCTET STRING d, [0] prime256v1, [1] BIT STRING 04 || x || y }.
  const Bytes d = coordinate(d_.get());
  Bytes der = {0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20};
  der.insert(der.end(), d.begin(), d.end());
  const Bytes curve = {0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d,
                       0x03, 0x01, 0x07, 0xa1, 0x44, 0x03, 0x42, 0x00, 0x04};
  der.insert(der.end(), curve.begin(), curve.end());
  der.insert(der.end(), x_.begin(), x_.end());
  der.insert(der.end(), y_.begin(), y_.end());
  return der;
}

Bytes FixedP256Key::sign(std::span<const std::uint8_t> message) const {
  const BIGNUM* n = EC_GROUP_get0_order(group_.get());
  std::unique_ptr<BN_CTX, CtxFree> ctx(BN_CTX_new());
  require(ctx != nullptr);
  unsigned char hash[SHA256_DIGEST_LENGTH];
  require(SHA256(message.data(), message.size(), hash) != nullptr);
  BnPtr e = bn(BN_bin2bn(hash, sizeof hash, nullptr));

  // k = HMAC-SHA-256(d, hash) mod n, bumped until it is usable (r and s non-zero).
  const Bytes d = coordinate(d_.get());
  unsigned char mac[SHA256_DIGEST_LENGTH];
  unsigned int mac_len = 0;
  require(HMAC(EVP_sha256(), d.data(), static_cast<int>(d.size()), hash, sizeof hash, mac,
               &mac_len) != nullptr);
  BnPtr k = bn(BN_bin2bn(mac, static_cast<int>(mac_len), nullptr));
  require(BN_nnmod(k.get(), k.get(), n, ctx.get()) == 1);
  BnPtr r = bn(BN_new());
  BnPtr s = bn(BN_new());
  PointPtr kg(EC_POINT_new(group_.get()));
  require(kg != nullptr);
  for (;;) {
    if (!BN_is_zero(k.get())) {
      require(EC_POINT_mul(group_.get(), kg.get(), k.get(), nullptr, nullptr, ctx.get()) == 1 &&
              EC_POINT_get_affine_coordinates(group_.get(), kg.get(), r.get(), nullptr,
                                              ctx.get()) == 1 &&
              BN_nnmod(r.get(), r.get(), n, ctx.get()) == 1);
      // s = k^-1 (e + r d) mod n
      BnPtr k_inverse = bn(BN_mod_inverse(nullptr, k.get(), n, ctx.get()));
      require(BN_mod_mul(s.get(), r.get(), d_.get(), n, ctx.get()) == 1 &&
              BN_mod_add(s.get(), s.get(), e.get(), n, ctx.get()) == 1 &&
              BN_mod_mul(s.get(), s.get(), k_inverse.get(), n, ctx.get()) == 1);
      if (!BN_is_zero(r.get()) && !BN_is_zero(s.get())) break;
    }
    require(BN_add_word(k.get(), 1) == 1 && BN_nnmod(k.get(), k.get(), n, ctx.get()) == 1);
  }
  std::unique_ptr<ECDSA_SIG, SigFree> sig(ECDSA_SIG_new());
  require(sig != nullptr && ECDSA_SIG_set0(sig.get(), r.get(), s.get()) == 1);
  (void)r.release();  // owned by sig now
  (void)s.release();
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  require(len > 0);
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

std::optional<Bytes> FixedP256Key::ecdh_x(std::span<const std::uint8_t> x,
                                          std::span<const std::uint8_t> y) const {
  if (x.size() != kCoordinateBytes || y.size() != kCoordinateBytes) return std::nullopt;
  std::unique_ptr<BN_CTX, CtxFree> ctx(BN_CTX_new());
  PointPtr peer(EC_POINT_new(group_.get()));
  PointPtr shared(EC_POINT_new(group_.get()));
  BnPtr px = bn(BN_bin2bn(x.data(), kCoordinateBytes, nullptr));
  BnPtr py = bn(BN_bin2bn(y.data(), kCoordinateBytes, nullptr));
  require(ctx && peer && shared);
  if (EC_POINT_set_affine_coordinates(group_.get(), peer.get(), px.get(), py.get(), ctx.get()) !=
          1 ||
      EC_POINT_is_on_curve(group_.get(), peer.get(), ctx.get()) != 1) {
    return std::nullopt;
  }
  BnPtr zx = bn(BN_new());
  require(EC_POINT_mul(group_.get(), shared.get(), nullptr, peer.get(), d_.get(), ctx.get()) == 1);
  if (EC_POINT_get_affine_coordinates(group_.get(), shared.get(), zx.get(), nullptr, ctx.get()) !=
      1) {
    return std::nullopt;
  }
  return coordinate(zx.get());
}

}  // namespace touchpass::fuzzing
