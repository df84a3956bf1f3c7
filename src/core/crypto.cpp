#include "core/crypto.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <cassert>
#include <memory>
#include <utility>

namespace touchpass::crypto {

namespace {

struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct MacFree {
  void operator()(EVP_MAC* p) const { EVP_MAC_free(p); }
};
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* p) const { EVP_MAC_CTX_free(p); }
};
struct KdfFree {
  void operator()(EVP_KDF* p) const { EVP_KDF_free(p); }
};
struct KdfCtxFree {
  void operator()(EVP_KDF_CTX* p) const { EVP_KDF_CTX_free(p); }
};

Status openssl_failure(std::string_view what) {
  return Status(Code::internal,
                "The cryptographic library failed to compute " + std::string(what) + ".");
}

// OSSL_PARAM takes non-const pointers even for inputs it only reads.
OSSL_PARAM octets(const char* key, ByteView bytes) {
  return OSSL_PARAM_construct_octet_string(
      key, const_cast<std::uint8_t*>(bytes.data()),  // NOLINT: read-only use by OpenSSL
      bytes.size());
}

OSSL_PARAM utf8(const char* key, const char* value) {
  return OSSL_PARAM_construct_utf8_string(key, const_cast<char*>(value), 0);  // NOLINT: read-only
}

Status digest(const EVP_MD* md, std::string_view name, std::initializer_list<ByteView> parts,
              std::span<std::uint8_t> out) {
  assert(out.size() == static_cast<std::size_t>(EVP_MD_get_size(md)));
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1) return openssl_failure(name);
  for (ByteView part : parts) {
    if (!part.empty() && EVP_DigestUpdate(ctx.get(), part.data(), part.size()) != 1) {
      return openssl_failure(name);
    }
  }
  unsigned int written = 0;
  if (EVP_DigestFinal_ex(ctx.get(), out.data(), &written) != 1 || written != out.size()) {
    return openssl_failure(name);
  }
  return Status::success();
}

}  // namespace

Status sha256(std::initializer_list<ByteView> parts, std::span<std::uint8_t> out) {
  return digest(EVP_sha256(), "SHA-256", parts, out);
}

Status sha512(std::initializer_list<ByteView> parts, std::span<std::uint8_t> out) {
  return digest(EVP_sha512(), "SHA-512", parts, out);
}

Status hmac_sha256(ByteView key, ByteView message, std::span<std::uint8_t> out) {
  assert(out.size() == 32);
  std::unique_ptr<EVP_MAC, MacFree> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (!mac) return openssl_failure("HMAC-SHA-256");
  std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx(EVP_MAC_CTX_new(mac.get()));
  if (!ctx) return openssl_failure("HMAC-SHA-256");
  const OSSL_PARAM params[] = {utf8(OSSL_MAC_PARAM_DIGEST, "SHA256"), OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), message.data(), message.size()) != 1) {
    return openssl_failure("HMAC-SHA-256");
  }
  std::size_t written = 0;
  if (EVP_MAC_final(ctx.get(), out.data(), &written, out.size()) != 1 || written != out.size()) {
    return openssl_failure("HMAC-SHA-256");
  }
  return Status::success();
}

Result<HmacSha256Key> HmacSha256Key::create(ByteView key) {
  std::unique_ptr<EVP_MAC, MacFree> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (!mac) return openssl_failure("HMAC-SHA-256");
  std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx(EVP_MAC_CTX_new(mac.get()));
  if (!ctx) return openssl_failure("HMAC-SHA-256");
  const OSSL_PARAM params[] = {utf8(OSSL_MAC_PARAM_DIGEST, "SHA256"), OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1) {
    return openssl_failure("HMAC-SHA-256");
  }
  return HmacSha256Key(ctx.release());
}

HmacSha256Key::HmacSha256Key(HmacSha256Key&& other) noexcept
    : prepared_(std::exchange(other.prepared_, nullptr)) {}

HmacSha256Key& HmacSha256Key::operator=(HmacSha256Key&& other) noexcept {
  if (this != &other) {
    EVP_MAC_CTX_free(static_cast<EVP_MAC_CTX*>(prepared_));
    prepared_ = std::exchange(other.prepared_, nullptr);
  }
  return *this;
}

HmacSha256Key::~HmacSha256Key() {
  EVP_MAC_CTX_free(static_cast<EVP_MAC_CTX*>(prepared_));  // wipes the key state
}

Status HmacSha256Key::compute(ByteView message, std::span<std::uint8_t> out) const {
  assert(out.size() == 32);
  std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx(
      EVP_MAC_CTX_dup(static_cast<const EVP_MAC_CTX*>(prepared_)));
  if (!ctx || EVP_MAC_update(ctx.get(), message.data(), message.size()) != 1) {
    return openssl_failure("HMAC-SHA-256");
  }
  std::size_t written = 0;
  if (EVP_MAC_final(ctx.get(), out.data(), &written, out.size()) != 1 || written != out.size()) {
    return openssl_failure("HMAC-SHA-256");
  }
  return Status::success();
}

Status hkdf_sha256(ByteView ikm, ByteView salt, ByteView info, std::span<std::uint8_t> out) {
  assert(!out.empty() && out.size() <= 255 * 32);
  std::unique_ptr<EVP_KDF, KdfFree> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  if (!kdf) return openssl_failure("HKDF-SHA-256");
  std::unique_ptr<EVP_KDF_CTX, KdfCtxFree> ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx) return openssl_failure("HKDF-SHA-256");
  // Mode defaults to extract-then-expand (RFC 5869).
  const OSSL_PARAM params[] = {utf8(OSSL_KDF_PARAM_DIGEST, "SHA256"),
                               octets(OSSL_KDF_PARAM_KEY, ikm), octets(OSSL_KDF_PARAM_SALT, salt),
                               octets(OSSL_KDF_PARAM_INFO, info), OSSL_PARAM_construct_end()};
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) {
    return openssl_failure("HKDF-SHA-256");
  }
  return Status::success();
}

}  // namespace touchpass::crypto
