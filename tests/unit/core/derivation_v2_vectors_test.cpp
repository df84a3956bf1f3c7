// Reproduces every value of the normative v2 test vectors, DESIGN.md §5.2 and
// tests/vectors/derivation-v2.json (a byte-identical copy of shared/vectors/derivation-v2.json).
// S is computed independently with OpenSSL's one-shot EVP_Q_mac, the way the token does:
//   FIDO2:   S = HMAC-SHA-256(cred_random, hmac_salt)    (CTAP2 hmac-secret / WebAuthn PRF)
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

#ifndef TOUCHPASS_DERIVATION_V2_VECTORS
#error "TOUCHPASS_DERIVATION_V2_VECTORS must name tests/vectors/derivation-v2.json"
#endif

namespace touchpass {
namespace {

using nlohmann::json;
using testing::grant_from_vector;
using testing::hex_field;
using testing::vector_hmac;

const json& cases() {
  static const json v = [] {
    std::ifstream in(TOUCHPASS_DERIVATION_V2_VECTORS);
    if (!in) {
      ADD_FAILURE() << "cannot open " << TOUCHPASS_DERIVATION_V2_VECTORS;
      return json::object();
    }
    return json::parse(in);
  }();
  return v.at("derivation_v2");
}

std::string hex_of(const std::string& text) {
  return to_hex(bytes_of(text));
}

Bytes sha256(std::string_view text) {
  Bytes out(32);
  std::size_t written = 0;
  EXPECT_EQ(
      EVP_Q_digest(nullptr, "SHA256", nullptr, text.data(), text.size(), out.data(), &written), 1);
  return out;
}

TEST(DerivationV2Vectors, CoverBothTokenKindsAndNoUnknownFields) {
  const std::set<std::string> known = {"kind",
                                       "grant",
                                       "scopes_sorted",
                                       "enc_grant",
                                       "grant_challenge",
                                       "grant_challenge_b64url",
                                       "example_client_data_json",
                                       "example_client_data_hash",
                                       "show_nonce",
                                       "show_challenge",
                                       "prf_input",
                                       "hmac_salt",
                                       "cred_random",
                                       "challenge",
                                       "hmac_key",
                                       "S",
                                       "K",
                                       "password",
                                       "pepper",
                                       "verifier"};
  std::set<std::string> kinds;
  for (const json& c : cases()) {
    kinds.insert(c.at("kind").get<std::string>());
    EXPECT_EQ(c.at("kind"), c.at("grant").at("kind"));
    EXPECT_EQ(c.at("grant").at("version"), 2);
    for (const auto& [key, value] : c.items()) {
      EXPECT_TRUE(known.count(key)) << "vector field \"" << key << "\" is not checked";
    }
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"fido2", "yubikey"}));
}

TEST(DerivationV2Vectors, ReproduceEveryIntermediateValue) {
  for (const json& c : cases()) {
    const std::string kind = c.at("kind").get<std::string>();
    SCOPED_TRACE(kind);

    const Grant grant = grant_from_vector(c.at("grant"));
    EXPECT_TRUE(validate_grant(grant).ok()) << validate_grant(grant).message();
    if (c.contains("scopes_sorted")) {
      EXPECT_EQ(canonical_scopes(grant.scopes),
                c.at("scopes_sorted").get<std::vector<std::string>>());
    }
    const Bytes enc = encode_grant(grant);
    EXPECT_EQ(to_hex(enc), c.at("enc_grant").get<std::string>());

    Bytes s;
    if (kind == "fido2") {
      const Result<GrantChallenge> challenge = grant_challenge(grant.version, enc);
      ASSERT_TRUE(challenge.ok());
      EXPECT_EQ(to_hex(*challenge), c.at("grant_challenge").get<std::string>());
      EXPECT_EQ(to_base64url(*challenge), c.at("grant_challenge_b64url").get<std::string>());
      // The example clientDataJSON carries that challenge, and its hash is what the key signs.
      const std::string client_data = c.at("example_client_data_json").get<std::string>();
      const json parsed = json::parse(client_data);
      EXPECT_EQ(parsed.at("type"), "webauthn.get");
      EXPECT_EQ(parsed.at("challenge"), c.at("grant_challenge_b64url"));
      EXPECT_EQ(to_hex(sha256(client_data)), c.at("example_client_data_hash").get<std::string>());

      const Result<GrantChallenge> show =
          show_challenge(grant.version, enc, hex_field(c, "show_nonce"));
      ASSERT_TRUE(show.ok());
      EXPECT_EQ(to_hex(*show), c.at("show_challenge").get<std::string>());

      EXPECT_EQ(to_hex(prf_input(grant.grant_id)), c.at("prf_input").get<std::string>());
      const Result<HmacSalt> salt = hmac_salt(grant.version, grant.grant_id);
      ASSERT_TRUE(salt.ok());
      EXPECT_EQ(to_hex(*salt), c.at("hmac_salt").get<std::string>());
      s = vector_hmac("SHA256", hex_field(c, "cred_random"), *salt);
    } else {
      ASSERT_EQ(kind, "yubikey");
      const Result<YubiKeyChallenge> challenge = yubikey_challenge(grant.version, grant.grant_id);
      ASSERT_TRUE(challenge.ok());
      EXPECT_EQ(to_hex(*challenge), c.at("challenge").get<std::string>());
      s = vector_hmac("SHA1", hex_field(c, "hmac_key"), *challenge);
    }
    EXPECT_EQ(to_hex(s), c.at("S").get<std::string>());

    const Result<SecretBytes> key =
        derive_app_password_key(grant.version, hex_field(c, "S"), grant.grant_id);
    ASSERT_TRUE(key.ok()) << key.error().message;
    EXPECT_EQ(to_hex(key->bytes()), c.at("K").get<std::string>());

    const std::string password = c.at("password").get<std::string>();
    const Result<AppPassword> derived = derive_app_password(grant.version, s, grant.grant_id);
    ASSERT_TRUE(derived.ok()) << derived.error().message;
    EXPECT_EQ(derived->grouped(), password);

    const Result<Verifier> verifier = verifier_for_typed_password(hex_field(c, "pepper"), password);
    ASSERT_TRUE(verifier.ok());
    EXPECT_EQ(to_hex(verifier->bytes()), c.at("verifier").get<std::string>());
  }
}

TEST(DerivationV2Vectors, ThePrfInputIsTheV2SaltLabelAndTheGrantId) {
  for (const json& c : cases()) {
    if (c.at("kind") != "fido2") continue;
    EXPECT_EQ(c.at("prf_input").get<std::string>(),
              hex_of("touchpass/v2/salt") + c.at("grant").at("grant_id").get<std::string>());
  }
}

}  // namespace
}  // namespace touchpass
