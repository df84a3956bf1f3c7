// The relying party's check of a new credential's attestation (attestation.h) for each format
// touchpass accepts — none, packed self, packed with x5c, fido-u2f — on statements built the way
// a key builds them: the virtual token's encoders, its attestation certificate and real P-256
// keys.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "core/attestation.h"
#include "core/bytes.h"
#include "core/cbor_writer.h"
#include "core/client_data.h"
#include "devices/virtual/auth_data.h"
#include "devices/virtual/crypto.h"

namespace touchpass {
namespace {

namespace vcrypto = vtoken::crypto;

const std::string kOrigin = "https://mail.example.org";
const std::string kRpId = "example.org";
const Bytes kChallenge(32, 0x3c);
const Bytes kAaguid(16, 0xaa);
const Bytes kCredentialId(64, 0x17);

Bytes rp_hash_of(const std::string& rp_id) {
  const auto h = rp_id_hash(rp_id);
  return Bytes(h->begin(), h->end());
}

Bytes hmac_secret_extension(bool enabled) {
  CborWriter ext;
  ext.map(1).text("hmac-secret").boolean(enabled);
  return ext.take();
}

// One makeCredential answer: a fresh credential key, an attestation key with its certificate,
// and the statement of each format signed as CTAP 2 (packed) and U2F (fido-u2f) keys sign it.
struct NewCredential {
  vcrypto::P256Key credential = vcrypto::P256Key::generate();
  vcrypto::P256Key attestation = vcrypto::P256Key::generate();
  Bytes certificate = vcrypto::make_attestation_certificate(attestation, kAaguid);
  std::string client_data = R"({"type":"webauthn.create","challenge":")" +
                            to_base64url(kChallenge) + R"(","origin":")" + kOrigin + "\"}";

  Bytes auth_data(std::uint8_t flags = vtoken::kFlagUp, const std::string& rp_id = kRpId,
                  std::optional<Bytes> extensions = hmac_secret_extension(true)) const {
    const Bytes cose = vtoken::encode_cose_key(credential, vtoken::kCoseEs256);
    return vtoken::encode_auth_data(rp_hash_of(rp_id), flags | vtoken::kFlagAt, 0,
                                    vtoken::AttestedCredential{kAaguid, kCredentialId, cose},
                                    extensions);
  }
  Bytes client_hash() const { return vcrypto::sha256(bytes_of(client_data)); }

  AttestationStatement none(Bytes data) const {
    return {"none", std::move(data), {}, {}, client_data};
  }
  AttestationStatement self(Bytes data) const {
    Bytes sig = credential.sign(vcrypto::concat(data, client_hash()));
    return {"packed", std::move(data), std::move(sig), {}, client_data};
  }
  AttestationStatement packed(Bytes data) const {
    Bytes sig = attestation.sign(vcrypto::concat(data, client_hash()));
    return {"packed", std::move(data), std::move(sig), certificate, client_data};
  }
  // FIDO U2F's registration signature: 0x00 || rpIdHash || H(clientData) || credentialId ||
  // the uncompressed public key, by the attestation certificate's key.
  Bytes u2f_message(const Bytes& data) const {
    Bytes m{0x00};
    const Bytes rp_hash(data.begin(), data.begin() + 32);
    for (const Bytes& part : {rp_hash, client_hash(), kCredentialId}) {
      m.insert(m.end(), part.begin(), part.end());
    }
    m.push_back(0x04);
    for (const Bytes& part : {credential.x(), credential.y()}) {
      m.insert(m.end(), part.begin(), part.end());
    }
    return m;
  }
  AttestationStatement u2f(Bytes data) const {
    Bytes sig = attestation.sign(u2f_message(data));
    return {"fido-u2f", std::move(data), std::move(sig), certificate, client_data};
  }
};

struct Expected {
  std::vector<std::string> origins{kOrigin};
  AttestationExpectation get(bool user_verification = false) const {
    return {kRpId, {kClientDataCreate, kChallenge, origins}, user_verification};
  }
};

TEST(VerifyAttestation, AcceptsEachFormatAKeySendsAndReturnsTheCredential) {
  const NewCredential c;
  const Expected e;
  const AttestationStatement statements[] = {c.none(c.auth_data()), c.self(c.auth_data()),
                                             c.packed(c.auth_data()), c.u2f(c.auth_data())};
  for (const AttestationStatement& statement : statements) {
    const auto attested = verify_attestation(statement, e.get());
    ASSERT_TRUE(attested.ok()) << statement.format << " (" << statement.certificate.size()
                               << "-byte certificate): " << attested.error().message;
    EXPECT_EQ(attested->format, statement.format);
    EXPECT_EQ(attested->credential_id, kCredentialId);
    EXPECT_EQ(attested->public_key.raw(), vcrypto::concat(c.credential.x(), c.credential.y()));
    EXPECT_EQ(Bytes(attested->aaguid.begin(), attested->aaguid.end()), kAaguid);
  }
}

TEST(VerifyAttestation, AFidoU2fStatementIsCheckedOverItsOwnMessage) {
  const NewCredential c;
  const NewCredential stranger;  // another key's certificate
  const Expected e;
  AttestationStatement no_certificate = c.u2f(c.auth_data());
  no_certificate.certificate.clear();
  AttestationStatement packed_message = c.u2f(c.auth_data());  // signed as packed would be
  packed_message.signature = c.attestation.sign(vcrypto::concat(c.auth_data(), c.client_hash()));
  AttestationStatement other_certificate = c.u2f(c.auth_data());
  other_certificate.certificate = stranger.certificate;
  AttestationStatement other_credential = c.u2f(c.auth_data());  // signed for another key
  other_credential.signature = c.attestation.sign(stranger.u2f_message(stranger.auth_data()));
  AttestationStatement not_a_certificate = c.u2f(c.auth_data());
  not_a_certificate.certificate.push_back(0x00);
  AttestationStatement other_client_data = c.u2f(c.auth_data());
  other_client_data.client_data_json.insert(other_client_data.client_data_json.size() - 1,
                                            R"(,"crossOrigin":false)");
  const struct {
    const char* what;
    AttestationStatement statement;
    const char* sentence;
  } cases[] = {
      {"no x5c", no_certificate, "needs x5c"},
      {"the packed message", packed_message, "does not verify"},
      {"another certificate", other_certificate, "does not verify"},
      {"another credential's message", other_credential, "does not verify"},
      {"trailing bytes after the certificate", not_a_certificate, "not one DER certificate"},
      {"client data other than the one signed", other_client_data, "does not verify"},
  };
  for (const auto& one : cases) {
    const auto attested = verify_attestation(one.statement, e.get());
    ASSERT_FALSE(attested.ok()) << one.what;
    EXPECT_EQ(attested.code(), Code::verification_failed) << one.what;
    EXPECT_NE(attested.error().message.find(one.sentence), std::string::npos)
        << one.what << ": " << attested.error().message;
  }
}

TEST(VerifyAttestation, RefusesWhatNoFormatAllows) {
  const NewCredential c;
  const Expected e;
  AttestationStatement signed_none = c.none(c.auth_data());
  signed_none.signature = c.packed(c.auth_data()).signature;
  AttestationStatement unsigned_packed = c.packed(c.auth_data());
  unsigned_packed.signature.clear();
  AttestationStatement forged_packed = c.packed(c.auth_data());
  forged_packed.signature = c.credential.sign(bytes_of("something else"));
  AttestationStatement forged_self = c.self(c.auth_data());
  forged_self.signature = c.attestation.sign(vcrypto::concat(c.auth_data(), c.client_hash()));
  AttestationStatement unknown = c.packed(c.auth_data());
  unknown.format = "tpm";
  const struct {
    const char* what;
    AttestationStatement statement;
    Code code;
    bool user_verification;
  } cases[] = {
      {"none with a signature", signed_none, Code::verification_failed, false},
      {"packed without a signature", unsigned_packed, Code::verification_failed, false},
      {"packed signed over something else", forged_packed, Code::verification_failed, false},
      {"self attestation by another key", forged_self, Code::verification_failed, false},
      {"a format touchpass does not verify", unknown, Code::verification_failed, false},
      {"another relying party", c.u2f(c.auth_data(vtoken::kFlagUp, "evil.example")),
       Code::verification_failed, false},
      {"no touch", c.u2f(c.auth_data(0)), Code::verification_failed, false},
      {"no UV for a PIN credential", c.u2f(c.auth_data()), Code::verification_failed, true},
      {"hmac-secret not enabled",
       c.u2f(c.auth_data(vtoken::kFlagUp, kRpId, hmac_secret_extension(false))),
       Code::capability_missing, false},
      {"no extensions", c.packed(c.auth_data(vtoken::kFlagUp, kRpId, std::nullopt)),
       Code::capability_missing, false},
  };
  for (const auto& one : cases) {
    const auto attested = verify_attestation(one.statement, e.get(one.user_verification));
    ASSERT_FALSE(attested.ok()) << one.what;
    EXPECT_EQ(attested.code(), one.code) << one.what << ": " << attested.error().message;
  }
  // The same statements verify once what was wrong is right.
  EXPECT_TRUE(
      verify_attestation(c.u2f(c.auth_data(vtoken::kFlagUp | vtoken::kFlagUv)), e.get(true)).ok());
}

}  // namespace
}  // namespace touchpass
