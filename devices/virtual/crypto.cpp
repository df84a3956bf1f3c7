#include "devices/virtual/crypto.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <climits>
#include <cstring>
#include <string>

#include "core/random.h"

namespace touchpass::vtoken::crypto {

namespace {

constexpr const char* kCurveName = "prime256v1";
constexpr std::size_t kAesKeySize = 32;
constexpr std::size_t kAesBlockSize = 16;

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
template <class T, void (*F)(T*)>
using Handle = std::unique_ptr<T, Deleter<T, F>>;

using PkeyCtx = Handle<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using MdCtx = Handle<EVP_MD_CTX, EVP_MD_CTX_free>;
using CipherCtx = Handle<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;
using Kdf = Handle<EVP_KDF, EVP_KDF_free>;
using KdfCtx = Handle<EVP_KDF_CTX, EVP_KDF_CTX_free>;
using Bignum = Handle<BIGNUM, BN_free>;
using ParamBuilder = Handle<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using Params = Handle<OSSL_PARAM, OSSL_PARAM_free>;
using Certificate = Handle<X509, X509_free>;
using Extension = Handle<X509_EXTENSION, X509_EXTENSION_free>;
using Object = Handle<ASN1_OBJECT, ASN1_OBJECT_free>;
using OctetString = Handle<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>;

// Throws CryptoError naming `what` unless `ok`.
void check(bool ok, const char* what) {
  if (!ok) throw CryptoError(std::string("OpenSSL failed: ") + what);
}

int int_size(std::size_t n) {
  if (n > static_cast<std::size_t>(INT_MAX)) throw CryptoError("input too large");
  return static_cast<int>(n);
}

OSSL_PARAM octet_param(const char* name, ByteView bytes) {
  return OSSL_PARAM_construct_octet_string(name, const_cast<std::uint8_t*>(bytes.data()),
                                           bytes.size());
}

bool is_p256(EVP_PKEY* key) {
  char group[64] = {};
  std::size_t len = 0;
  return EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                        &len) == 1 &&
         std::string_view(group, len) == kCurveName;
}

bool public_key_valid(EVP_PKEY* key) {
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  check(ctx != nullptr, "EVP_PKEY_CTX_new_from_pkey");
  return EVP_PKEY_public_check(ctx.get()) == 1;
}

}  // namespace

P256Key P256Key::generate() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", kCurveName);
  check(key != nullptr, "EVP_PKEY_Q_keygen");
  return P256Key(key);
}

std::optional<P256Key> P256Key::from_private_der(ByteView der) {
  const unsigned char* p = der.data();
  EVP_PKEY* raw = d2i_PrivateKey(EVP_PKEY_EC, nullptr, &p, static_cast<long>(int_size(der.size())));
  if (raw == nullptr) return std::nullopt;
  P256Key key(raw);
  if (!is_p256(raw) || !public_key_valid(raw)) return std::nullopt;
  return key;
}

std::optional<P256Key> P256Key::from_public(ByteView x, ByteView y) {
  if (x.size() != kP256CoordinateSize || y.size() != kP256CoordinateSize) return std::nullopt;
  Bytes point;
  point.reserve(1 + 2 * kP256CoordinateSize);
  point.push_back(0x04);
  point.insert(point.end(), x.begin(), x.end());
  point.insert(point.end(), y.begin(), y.end());

  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(kCurveName),
                                       0),
      octet_param(OSSL_PKEY_PARAM_PUB_KEY, point),
      OSSL_PARAM_construct_end(),
  };
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  check(ctx != nullptr && EVP_PKEY_fromdata_init(ctx.get()) == 1, "EVP_PKEY_fromdata_init");
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params) != 1) return std::nullopt;
  P256Key key(raw);
  if (!public_key_valid(raw)) return std::nullopt;
  return key;
}

Bytes P256Key::coordinate(const char* param) const {
  BIGNUM* raw = nullptr;
  check(EVP_PKEY_get_bn_param(key_.get(), param, &raw) == 1, "EVP_PKEY_get_bn_param");
  Bignum bn(raw);
  Bytes out(kP256CoordinateSize);
  check(BN_bn2binpad(bn.get(), out.data(), int_size(out.size())) ==
            static_cast<int>(kP256CoordinateSize),
        "BN_bn2binpad");
  return out;
}

Bytes P256Key::x() const {
  return coordinate(OSSL_PKEY_PARAM_EC_PUB_X);
}

Bytes P256Key::y() const {
  return coordinate(OSSL_PKEY_PARAM_EC_PUB_Y);
}

SecretBytes P256Key::private_der() const {
  const int len = i2d_PrivateKey(key_.get(), nullptr);
  check(len > 0, "i2d_PrivateKey");
  SecretBytes der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  check(i2d_PrivateKey(key_.get(), &p) == len, "i2d_PrivateKey");
  return der;
}

Bytes P256Key::sign(ByteView message) const {
  MdCtx ctx(EVP_MD_CTX_new());
  check(ctx != nullptr, "EVP_MD_CTX_new");
  check(EVP_DigestSignInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, key_.get(),
                              nullptr) == 1,
        "EVP_DigestSignInit_ex");
  std::size_t len = 0;
  check(EVP_DigestSign(ctx.get(), nullptr, &len, message.data(), message.size()) == 1,
        "EVP_DigestSign");
  Bytes sig(len);
  check(EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) == 1,
        "EVP_DigestSign");
  sig.resize(len);
  return sig;
}

SecretBytes P256Key::ecdh_x(const P256Key& peer) const {
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr));
  check(ctx != nullptr && EVP_PKEY_derive_init(ctx.get()) == 1, "EVP_PKEY_derive_init");
  check(EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) == 1, "EVP_PKEY_derive_set_peer");
  std::size_t len = 0;
  check(EVP_PKEY_derive(ctx.get(), nullptr, &len) == 1 && len == kP256CoordinateSize,
        "EVP_PKEY_derive");
  SecretBytes z(len);
  check(EVP_PKEY_derive(ctx.get(), z.data(), &len) == 1 && len == kP256CoordinateSize,
        "EVP_PKEY_derive");
  return z;
}

Bytes random_bytes(std::size_t n) {
  Bytes out(n);
  check(fill_random(out).ok(), "fill_random");
  return out;
}

SecretBytes random_secret(std::size_t n) {
  SecretBytes out(n);
  check(fill_random(out.bytes()).ok(), "fill_random");
  return out;
}

Bytes sha256(ByteView data) {
  Bytes out(32);
  unsigned int len = 0;
  check(EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) == 1 &&
            len == out.size(),
        "EVP_Digest");
  return out;
}

SecretBytes hmac_sha256(ByteView key, ByteView data) {
  SecretBytes out(32);
  unsigned int len = 0;
  check(HMAC(EVP_sha256(), key.data(), int_size(key.size()), data.data(), data.size(), out.data(),
             &len) != nullptr &&
            len == out.size(),
        "HMAC");
  return out;
}

SecretBytes hkdf_sha256(ByteView ikm, ByteView salt, ByteView info, std::size_t length) {
  Kdf kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  check(kdf != nullptr, "EVP_KDF_fetch");
  KdfCtx ctx(EVP_KDF_CTX_new(kdf.get()));
  check(ctx != nullptr, "EVP_KDF_CTX_new");
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
      octet_param(OSSL_KDF_PARAM_KEY, ikm),
      octet_param(OSSL_KDF_PARAM_SALT, salt),
      octet_param(OSSL_KDF_PARAM_INFO, info),
      OSSL_PARAM_construct_end(),
  };
  SecretBytes out(length);
  check(EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) == 1, "EVP_KDF_derive");
  return out;
}

namespace {

// Runs AES-256-CBC without padding over `in` into `out` (same size).
void aes256_cbc(bool encrypt, ByteView key, ByteView iv, ByteView in, std::span<std::uint8_t> out) {
  check(key.size() == kAesKeySize && iv.size() == kAesBlockSize, "AES key or IV size");
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  check(ctx != nullptr, "EVP_CIPHER_CTX_new");
  check(EVP_CipherInit_ex2(ctx.get(), EVP_aes_256_cbc(), key.data(), iv.data(), encrypt ? 1 : 0,
                           nullptr) == 1,
        "EVP_CipherInit_ex2");
  check(EVP_CIPHER_CTX_set_padding(ctx.get(), 0) == 1, "EVP_CIPHER_CTX_set_padding");
  int len = 0;
  check(EVP_CipherUpdate(ctx.get(), out.data(), &len, in.data(), int_size(in.size())) == 1 &&
            len == int_size(in.size()),
        "EVP_CipherUpdate");
  int tail = 0;
  check(EVP_CipherFinal_ex(ctx.get(), out.data() + len, &tail) == 1 && tail == 0,
        "EVP_CipherFinal_ex");
}

}  // namespace

std::optional<Bytes> aes256_cbc_encrypt(ByteView key, ByteView iv, ByteView plaintext) {
  if (plaintext.size() % kAesBlockSize != 0) return std::nullopt;
  Bytes out(plaintext.size());
  if (!plaintext.empty()) aes256_cbc(true, key, iv, plaintext, out);
  return out;
}

std::optional<SecretBytes> aes256_cbc_decrypt(ByteView key, ByteView iv, ByteView ciphertext) {
  if (ciphertext.size() % kAesBlockSize != 0) return std::nullopt;
  SecretBytes out(ciphertext.size());
  if (!ciphertext.empty()) aes256_cbc(false, key, iv, ciphertext, out.bytes());
  return out;
}

namespace {

void add_name_entry(X509_NAME* name, const char* field, const char* value) {
  check(X509_NAME_add_entry_by_txt(name, field, MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(value), -1, -1, 0) == 1,
        "X509_NAME_add_entry_by_txt");
}

void add_extension(X509* cert, X509_EXTENSION* ext) {
  Extension owned(ext);
  check(owned != nullptr && X509_add_ext(cert, owned.get(), -1) == 1, "X509_add_ext");
}

// id-fido-gen-ce-aaguid: extnValue is the DER OCTET STRING holding the 16-byte AAGUID.
X509_EXTENSION* aaguid_extension(ByteView aaguid) {
  Object oid(OBJ_txt2obj("1.3.6.1.4.1.45724.1.1.4", 1));
  check(oid != nullptr, "OBJ_txt2obj");
  Bytes inner = {0x04, static_cast<std::uint8_t>(aaguid.size())};
  inner.insert(inner.end(), aaguid.begin(), aaguid.end());
  OctetString value(ASN1_OCTET_STRING_new());
  check(value != nullptr &&
            ASN1_OCTET_STRING_set(value.get(), inner.data(), int_size(inner.size())) == 1,
        "ASN1_OCTET_STRING_set");
  return X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), 0, value.get());
}

void set_random_serial(X509* cert) {
  Bytes serial = random_bytes(16);
  serial[0] &= 0x7f;
  Bignum bn(BN_bin2bn(serial.data(), int_size(serial.size()), nullptr));
  check(bn != nullptr && BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) != nullptr,
        "BN_to_ASN1_INTEGER");
}

}  // namespace

Bytes make_attestation_certificate(const P256Key& key, ByteView aaguid) {
  Certificate cert(X509_new());
  check(cert != nullptr, "X509_new");
  check(X509_set_version(cert.get(), X509_VERSION_3) == 1, "X509_set_version");
  set_random_serial(cert.get());
  constexpr long kTwentyYearsDays = 20L * 365;
  check(X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0) != nullptr &&
            X509_time_adj_ex(X509_getm_notAfter(cert.get()), static_cast<int>(kTwentyYearsDays), 0,
                             nullptr) != nullptr,
        "X509 validity");
  X509_NAME* name = X509_get_subject_name(cert.get());
  add_name_entry(name, "C", "US");
  add_name_entry(name, "O", "touchpass");
  add_name_entry(name, "OU", "Authenticator Attestation");
  add_name_entry(name, "CN", "touchpass virtual token");
  check(X509_set_issuer_name(cert.get(), name) == 1, "X509_set_issuer_name");
  check(X509_set_pubkey(cert.get(), key.get()) == 1, "X509_set_pubkey");
  add_extension(cert.get(),
                X509V3_EXT_conf_nid(nullptr, nullptr, NID_basic_constraints, "critical,CA:FALSE"));
  add_extension(cert.get(), aaguid_extension(aaguid));
  check(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "X509_sign");

  const int len = i2d_X509(cert.get(), nullptr);
  check(len > 0, "i2d_X509");
  Bytes der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  check(i2d_X509(cert.get(), &p) == len, "i2d_X509");
  return der;
}

}  // namespace touchpass::vtoken::crypto
