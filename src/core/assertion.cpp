#include "core/assertion.h"

#include "core/grant.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <array>
#include <memory>

#include "core/crypto.h"

namespace touchpass {

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};

Status refused(std::string sentence) {
  return Status(Code::verification_failed, std::move(sentence));
}

// The public key (x, y) as an OpenSSL key; nullptr when it is not a point on P-256.
std::unique_ptr<EVP_PKEY, PkeyFree> p256_public_key(const Es256PublicKey& key) {
  std::array<std::uint8_t, 65> point{};
  point[0] = 0x04;  // uncompressed
  std::copy(key.x.begin(), key.x.end(), point.begin() + 1);
  std::copy(key.y.begin(), key.y.end(), point.begin() + 33);
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return nullptr;
  }
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return nullptr;
  }
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey(raw);
  // EVP_PKEY_fromdata does not promise an on-curve check: ask for one.
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> check(EVP_PKEY_CTX_new(pkey.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) return nullptr;
  return pkey;
}

}  // namespace

Status verify_es256_signature(const Es256PublicKey& key, std::span<const std::uint8_t> message,
                              std::span<const std::uint8_t> der_signature) {
  const auto pkey = p256_public_key(key);
  if (!pkey) return refused("The credential's public key is not a point on P-256.");
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, pkey.get(),
                                      nullptr) != 1) {
    return Status(Code::internal, "The cryptographic library cannot verify ES256 signatures.");
  }
  // 1: valid; 0: invalid; negative: malformed (e.g. not DER) — both are a refusal.
  if (EVP_DigestVerify(ctx.get(), der_signature.data(), der_signature.size(), message.data(),
                       message.size()) != 1) {
    return refused("The key's signature does not verify with the enrolled credential.");
  }
  return Status::success();
}

Result<AuthenticatorData> verify_signed_hash(std::span<const std::uint8_t> authenticator_data,
                                             std::span<const std::uint8_t> client_data_hash,
                                             std::span<const std::uint8_t> der_signature,
                                             const Es256PublicKey& key, std::string_view rp_id,
                                             bool user_verification) {
  Result<AuthenticatorData> data = parse_authenticator_data(authenticator_data);
  if (!data.ok()) return data.error();
  const Result<std::array<std::uint8_t, 32>> rp_hash = rp_id_hash(rp_id);
  if (!rp_hash.ok()) return rp_hash.error();
  if (data->rp_id_hash != *rp_hash) {
    return Error{Code::verification_failed,
                 "The key signed for another relying party than " + std::string(rp_id) + "."};
  }
  if (!data->user_present()) {
    return Error{Code::verification_failed, "The key did not confirm a touch (UP flag unset)."};
  }
  if (user_verification && !data->user_verified()) {
    return Error{Code::verification_failed,
                 "The credential was enrolled with user verification, and this assertion has "
                 "none (UV flag unset)."};
  }
  Bytes message(authenticator_data.begin(), authenticator_data.end());
  message.insert(message.end(), client_data_hash.begin(), client_data_hash.end());
  if (Status s = verify_es256_signature(key, message, der_signature); !s.ok()) return s.error();
  return data;
}

Result<AuthenticatorData> verify_assertion(const SignedAssertion& assertion,
                                           const Es256PublicKey& key,
                                           const AssertionExpectation& expected) {
  // verify_signed_hash parses the authenticator data first, so a malformed one is reported as
  // such; the client data's own checks come after the signature.
  const Result<ClientData> client = parse_client_data(assertion.client_data_json);
  const auto client_hash = client_data_hash(assertion.client_data_json);
  if (!client_hash.ok()) return client_hash.error();
  Result<AuthenticatorData> data =
      verify_signed_hash(assertion.authenticator_data, *client_hash, assertion.signature, key,
                         expected.rp_id, expected.user_verification);
  if (!data.ok()) return data.error();
  if (!client.ok()) return client.error();
  if (Status s = check_client_data(*client, expected.client_data); !s.ok()) return s.error();
  if (Status s = check_sign_count(data->sign_count, expected.sign_count); !s.ok()) {
    return s.error();
  }
  return data;
}

Status check_sign_count(std::uint32_t seen, std::uint32_t stored) {
  if ((seen != 0 || stored != 0) && seen <= stored) {
    return Error{Code::clone_suspected, "The key's signature counter did not move forward (" +
                                            std::to_string(seen) + " after " +
                                            std::to_string(stored) +
                                            "): the credential may have been cloned."};
  }
  return Status::success();
}

Result<AuthenticatorData> verify_grant_assertion(std::uint64_t version,
                                                 const SignedAssertion& assertion,
                                                 const EnrolledCredential& credential,
                                                 std::span<const std::uint8_t> challenge,
                                                 std::span<const std::string> origins) {
  const auto key = Es256PublicKey::from_raw(credential.public_key);
  if (!key) {
    return Error{Code::verification_failed, "The enrolled public key is not an ES256 key."};
  }
  if (version == kGrantVersionV1) {
    if (!assertion.client_data_json.empty()) {
      return Error{Code::verification_failed,
                   "A version 1 grant signs a raw hash; the client sent client data."};
    }
    auto data = verify_signed_hash(assertion.authenticator_data, challenge, assertion.signature,
                                   *key, credential.rp_id, credential.user_verification);
    if (!data.ok()) return data.error();
    if (Status s = check_sign_count(data->sign_count, credential.sign_count); !s.ok()) {
      return s.error();
    }
    return data;
  }
  if (assertion.client_data_json.empty()) {
    return Error{Code::verification_failed, "The client sent no client data."};
  }
  AssertionExpectation expected;
  expected.rp_id = credential.rp_id;
  expected.client_data = {kClientDataGet, challenge, origins};
  expected.user_verification = credential.user_verification;
  expected.sign_count = credential.sign_count;
  return verify_assertion(assertion, *key, expected);
}

}  // namespace touchpass
