#include "core/attestation.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>

#include "core/assertion.h"

namespace touchpass {

namespace {

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};

Error refused(std::string sentence) {
  return Error{Code::verification_failed, std::move(sentence)};
}

// Verifies an ECDSA P-256 / SHA-256 signature by the key of the DER certificate `der`.
Status verify_by_certificate(std::span<const std::uint8_t> der,
                             std::span<const std::uint8_t> message,
                             std::span<const std::uint8_t> signature) {
  const unsigned char* p = der.data();
  std::unique_ptr<X509, X509Free> cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert || p != der.data() + der.size()) {
    return refused("The attestation certificate is not one DER certificate.");
  }
  EVP_PKEY* key = X509_get0_pubkey(cert.get());  // owned by cert
  char group[32] = {};
  std::size_t group_len = 0;
  if (key == nullptr || !EVP_PKEY_is_a(key, "EC") ||
      EVP_PKEY_get_group_name(key, group, sizeof group, &group_len) != 1 ||
      std::string_view(group, group_len) != "prime256v1") {
    return refused("The attestation certificate does not hold a P-256 key.");
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx ||
      EVP_DigestVerifyInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, key, nullptr) != 1) {
    return Status(Code::internal, "The cryptographic library cannot verify ES256 signatures.");
  }
  if (EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                       message.size()) != 1) {
    return refused("The attestation signature does not verify with the attestation certificate.");
  }
  return Status::success();
}

Bytes concat(std::initializer_list<std::span<const std::uint8_t>> parts) {
  std::size_t size = 0;
  for (const auto& part : parts) size += part.size();
  Bytes out(size);
  auto at = out.begin();
  for (const auto& part : parts) at = std::copy(part.begin(), part.end(), at);
  return out;
}

}  // namespace

Result<AttestedCredential> verify_attestation(const AttestationStatement& statement,
                                              const AttestationExpectation& expected) {
  auto client = parse_client_data(statement.client_data_json);
  if (!client.ok()) return client.error();
  if (Status s = check_client_data(*client, expected.client_data); !s.ok()) return s.error();
  const auto client_hash = client_data_hash(statement.client_data_json);
  if (!client_hash.ok()) return client_hash.error();

  auto data = parse_authenticator_data(statement.authenticator_data);
  if (!data.ok()) return data.error();
  const auto rp_hash = rp_id_hash(expected.rp_id);
  if (!rp_hash.ok()) return rp_hash.error();
  if (data->rp_id_hash != *rp_hash) {
    return refused("The key created the credential for another relying party than " +
                   std::string(expected.rp_id) + ".");
  }
  if (!data->user_present()) return refused("The key did not confirm a touch (UP flag unset).");
  if (expected.user_verification && !data->user_verified()) {
    return refused("The key did not verify the PIN for a PIN-protected credential (UV unset).");
  }
  if (!data->attested) return refused("The key returned no new credential (AT flag unset).");
  auto key = parse_cose_public_key(data->attested->cose_key);
  if (!key.ok()) return key.error();
  if (!extension_is_true(*data, "hmac-secret")) {
    return Error{Code::capability_missing,
                 "The security key did not enable hmac-secret for the new credential; touchpass "
                 "needs it to derive app passwords. Use a key that supports hmac-secret."};
  }

  AttestedCredential out;
  out.credential_id = data->attested->credential_id;
  out.public_key = *key;
  out.aaguid = data->attested->aaguid;
  out.sign_count = data->sign_count;
  out.format = statement.format;

  const Bytes signed_message = concat({statement.authenticator_data, *client_hash});
  if (statement.format == "none") {
    if (!statement.signature.empty() || !statement.certificate.empty()) {
      return refused("An attestation of format none carries a signature.");
    }
    return out;
  }
  if (statement.signature.empty()) return refused("The attestation carries no signature.");
  if (statement.format == "packed") {
    if (statement.certificate.empty()) {  // self attestation
      if (Status s = verify_es256_signature(*key, signed_message, statement.signature); !s.ok()) {
        return refused("The self-attestation signature does not verify with the new key.");
      }
      return out;
    }
    if (Status s =
            verify_by_certificate(statement.certificate, signed_message, statement.signature);
        !s.ok()) {
      return s.error();
    }
    return out;
  }
  if (statement.format == "fido-u2f") {
    if (statement.certificate.empty()) return refused("A fido-u2f attestation needs x5c.");
    const std::uint8_t zero = 0x00;
    const std::uint8_t uncompressed = 0x04;
    const Bytes message = concat({std::span(&zero, 1), data->rp_id_hash, *client_hash,
                                  out.credential_id, std::span(&uncompressed, 1), key->x, key->y});
    if (Status s = verify_by_certificate(statement.certificate, message, statement.signature);
        !s.ok()) {
      return s.error();
    }
    return out;
  }
  return refused("The attestation format is not one touchpass verifies (packed, fido-u2f, none).");
}

}  // namespace touchpass
