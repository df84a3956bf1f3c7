// Reproduces every value of the normative test vectors, DESIGN.md §5 and
// tests/vectors/derivation-v1.json (a byte-identical copy of shared/vectors/derivation-v1.json).
// S is computed independently with OpenSSL's one-shot EVP_Q_mac, the way the token does:
//   FIDO2:   S = HMAC-SHA-256(cred_random, hmac_salt)    (CTAP2 hmac-secret)
//   YubiKey: S = HMAC-SHA1(hmac_key, challenge)          (OTP slot challenge-response)
#include <gtest/gtest.h>

#include <openssl/evp.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "core/bytes.h"
#include "core/derivation.h"
#include "core/grant.h"
#include "core/password.h"
#include "core/verifier.h"
#include "unit/core/vector_support.h"

#ifndef TOUCHPASS_DERIVATION_VECTORS
#error "TOUCHPASS_DERIVATION_VECTORS must name tests/vectors/derivation-v1.json"
#endif

namespace touchpass {
namespace {

using nlohmann::json;
using testing::grant_from_vector;
using testing::hex_field;
using testing::vector_hmac;

json load_vectors() {
  std::ifstream in(TOUCHPASS_DERIVATION_VECTORS);
  if (!in) {
    ADD_FAILURE() << "cannot open " << TOUCHPASS_DERIVATION_VECTORS;
    return json::object();
  }
  return json::parse(in);
}

const json& vectors() {
  static const json v = load_vectors();
  return v;
}

template <std::size_t N>
std::string hex(const std::array<std::uint8_t, N>& a) {
  return to_hex(a);
}

TEST(DerivationVectors, CoverBothTokenKindsAndNoUnknownFields) {
  const json& cases = vectors().at("derivation_v1");
  std::set<std::string> kinds;
  const std::set<std::string> known = {"kind",      "grant",     "enc_grant", "client_data_hash",
                                       "hmac_salt", "challenge", "note",      "cred_random",
                                       "hmac_key",  "S",         "K",         "password",
                                       "pepper",    "verifier"};
  for (const json& c : cases) {
    kinds.insert(c.at("kind").get<std::string>());
    EXPECT_EQ(c.at("kind"), c.at("grant").at("kind"));
    for (const auto& [key, value] : c.items()) {
      EXPECT_TRUE(known.count(key)) << "vector field \"" << key << "\" is not checked";
    }
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"fido2", "yubikey"}));
  EXPECT_FALSE(vectors().at("normalization").empty());
}

TEST(DerivationVectors, ReproduceEveryIntermediateValue) {
  for (const json& c : vectors().at("derivation_v1")) {
    const std::string kind = c.at("kind").get<std::string>();
    SCOPED_TRACE(kind);

    // enc(G), and the grant is one that may be issued.
    const Grant grant = grant_from_vector(c.at("grant"));
    EXPECT_TRUE(validate_grant(grant).ok()) << validate_grant(grant).message();
    const Bytes enc = encode_grant(grant);
    EXPECT_EQ(to_hex(enc), c.at("enc_grant").get<std::string>());

    // The token's S, computed independently from the token-side secret.
    Bytes s;
    if (kind == "fido2") {
      const Result<GrantChallenge> cdh = grant_challenge(grant.version, enc);
      ASSERT_TRUE(cdh.ok());
      EXPECT_EQ(hex(*cdh), c.at("client_data_hash").get<std::string>());
      const Result<HmacSalt> salt = hmac_salt(grant.version, grant.grant_id);
      ASSERT_TRUE(salt.ok());
      EXPECT_EQ(hex(*salt), c.at("hmac_salt").get<std::string>());
      s = vector_hmac("SHA256", hex_field(c, "cred_random"), *salt);
      EXPECT_EQ(s.size(), kFido2SecretBytes);
    } else {
      ASSERT_EQ(kind, "yubikey");
      const Result<YubiKeyChallenge> challenge = yubikey_challenge(grant.version, grant.grant_id);
      ASSERT_TRUE(challenge.ok());
      EXPECT_EQ(hex(*challenge), c.at("challenge").get<std::string>());
      s = vector_hmac("SHA1", hex_field(c, "hmac_key"), *challenge);
      EXPECT_EQ(s.size(), kYubiKeySecretBytes);
    }
    EXPECT_EQ(to_hex(s), c.at("S").get<std::string>());

    // K, from the vector's S (so K is checked even if the S computation above were wrong).
    const Result<SecretBytes> key =
        derive_app_password_key(grant.version, hex_field(c, "S"), grant.grant_id);
    ASSERT_TRUE(key.ok()) << key.error().message;
    EXPECT_EQ(to_hex(key->bytes()), c.at("K").get<std::string>());

    // The password, both from K and end to end from the independently computed S.
    const std::string password = c.at("password").get<std::string>();
    const Result<AppPassword> from_key = format_password(key->bytes());
    ASSERT_TRUE(from_key.ok());
    EXPECT_EQ(from_key->grouped(), password);
    const Result<AppPassword> derived = derive_app_password(grant.version, s, grant.grant_id);
    ASSERT_TRUE(derived.ok()) << derived.error().message;
    EXPECT_EQ(derived->grouped(), password);

    // The verifier, from the normalized password and from the password as shown.
    const Bytes pepper = hex_field(c, "pepper");
    const SecretBytes normalized = normalize_password(password);
    EXPECT_TRUE(is_well_formed(normalized.view()));
    const Result<Verifier> verifier = compute_verifier(pepper, normalized.view());
    ASSERT_TRUE(verifier.ok()) << verifier.error().message;
    EXPECT_EQ(to_hex(verifier->bytes()), c.at("verifier").get<std::string>());
    const Result<Verifier> typed = verifier_for_typed_password(pepper, password);
    ASSERT_TRUE(typed.ok());
    EXPECT_EQ(*typed, *verifier);
  }
}

TEST(DerivationVectors, YubiKeyCredentialIsSerialThenSlot) {
  for (const json& c : vectors().at("derivation_v1")) {
    if (c.at("kind") != "yubikey") continue;
    const Result<YubiKeyCredential> cred =
        parse_yubikey_credential(hex_field(c.at("grant"), "credential"));
    ASSERT_TRUE(cred.ok());
    EXPECT_EQ(cred->serial, 12345678u);
    EXPECT_EQ(cred->slot, YubiKeySlot::two);
  }
}

TEST(DerivationVectors, ReproduceEveryNormalization) {
  for (const json& c : vectors().at("normalization")) {
    const std::string input = c.at("input").get<std::string>();
    EXPECT_EQ(normalize_password(input).view(), c.at("normalized").get<std::string>())
        << "input \"" << input << "\"";
  }
}

}  // namespace
}  // namespace touchpass
