#include "core/derivation.h"

#include <gtest/gtest.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <set>
#include <string>

#include "core/bytes.h"
#include "unit/core/test_grants.h"

namespace touchpass {
namespace {

using testing::fido2_grant;
using testing::yubikey_grant;

// SHA-256 or SHA-512 of `label || parts...`, by OpenSSL's one-shot EVP_Q_digest: an independent
// restatement of the definitions in derivation.h.
Bytes digest(const char* name, std::string_view label, std::initializer_list<Bytes> parts) {
  Bytes input = bytes_of(label);
  for (const Bytes& p : parts) input.insert(input.end(), p.begin(), p.end());
  Bytes out(64);
  std::size_t written = 0;
  EXPECT_EQ(EVP_Q_digest(nullptr, name, nullptr, input.data(), input.size(), out.data(), &written),
            1);
  out.resize(written);
  return out;
}

Bytes id_bytes(const GrantId& id) {
  return Bytes(id.bytes().begin(), id.bytes().end());
}

template <std::size_t N>
std::string hex(const std::array<std::uint8_t, N>& a) {
  return to_hex(a);
}

std::string password_of(const Bytes& secret, const GrantId& id,
                        std::uint64_t version = kGrantVersionV1) {
  const Result<AppPassword> pw = derive_app_password(version, secret, id);
  EXPECT_TRUE(pw.ok()) << (pw.ok() ? "" : pw.error().message);
  return pw.ok() ? std::string(pw->grouped()) : std::string();
}

// The label of `kind` ("grant", "salt", ...) for `version`, as DESIGN.md §5 spells it.
std::string label(std::uint64_t version, const char* kind) {
  return "touchpass/v" + std::to_string(version) + "/" + kind;
}

class EachVersion : public ::testing::TestWithParam<std::uint64_t> {};
INSTANTIATE_TEST_SUITE_P(Derivation, EachVersion,
                         ::testing::Values(kGrantVersionV1, kGrantVersionV2));

TEST_P(EachVersion, GrantChallengeIsSha256OfLabelAndEncoding) {
  const Bytes enc = encode_grant(fido2_grant());
  const Result<GrantChallenge> h = grant_challenge(GetParam(), enc);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(hex(*h), to_hex(digest("SHA256", label(GetParam(), "grant"), {enc})));
}

TEST_P(EachVersion, ShowChallengeIsSha256OfLabelEncodingAndNonce) {
  const Bytes enc = encode_grant(fido2_grant());
  const Bytes nonce(32, 0x07);
  const Result<GrantChallenge> h = show_challenge(GetParam(), enc, nonce);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(hex(*h), to_hex(digest("SHA256", label(GetParam(), "show"), {enc, nonce})));
}

TEST_P(EachVersion, ShowDiffersFromIssueAndFromEveryOtherNonce) {
  const Bytes enc = encode_grant(fido2_grant());
  const std::uint64_t v = GetParam();
  std::set<std::string> seen = {hex(*grant_challenge(v, enc))};
  for (std::uint8_t i = 0; i < 8; ++i) {
    Bytes nonce(16, 0);
    nonce[15] = i;
    EXPECT_TRUE(seen.insert(hex(*show_challenge(v, enc, nonce))).second) << int{i};
  }
  EXPECT_TRUE(seen.insert(hex(*show_challenge(v, enc, Bytes(17, 0)))).second);
}

TEST_P(EachVersion, RejectsAnEmptyEncodingAndAShortNonce) {
  const Bytes enc = encode_grant(fido2_grant());
  const std::uint64_t v = GetParam();
  EXPECT_EQ(grant_challenge(v, {}).code(), Code::invalid_argument);
  EXPECT_EQ(show_challenge(v, {}, Bytes(32, 1)).code(), Code::invalid_argument);
  EXPECT_EQ(show_challenge(v, enc, {}).code(), Code::invalid_argument);
  EXPECT_EQ(show_challenge(v, enc, Bytes(15, 1)).code(), Code::invalid_argument);
  EXPECT_TRUE(show_challenge(v, enc, Bytes(16, 1)).ok());
}

TEST_P(EachVersion, YubiKeyChallengeIsSixtyFourBytesOfSha512OfLabelAndGrantId) {
  const GrantId id = yubikey_grant().grant_id;
  const Result<YubiKeyChallenge> challenge = yubikey_challenge(GetParam(), id);
  ASSERT_TRUE(challenge.ok());
  EXPECT_EQ(hex(*challenge),
            to_hex(digest("SHA512", label(GetParam(), "challenge"), {id_bytes(id)})));
}

TEST_P(EachVersion, KeyIsHkdfWithTheVersionsInfo) {
  const Bytes secret(32, 0x42);
  const GrantId id = fido2_grant().grant_id;
  const Result<SecretBytes> key = derive_app_password_key(GetParam(), secret, id);
  ASSERT_TRUE(key.ok());
  // An independent HKDF by OpenSSL's EVP_KDF with the label spelled out here.
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  ASSERT_NE(kdf, nullptr);
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);
  const std::string info = label(GetParam(), "app-password");
  Bytes salt = id_bytes(id);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string("digest", const_cast<char*>("SHA256"), 0),
      OSSL_PARAM_construct_octet_string("key", const_cast<std::uint8_t*>(secret.data()),
                                        secret.size()),
      OSSL_PARAM_construct_octet_string("salt", salt.data(), salt.size()),
      OSSL_PARAM_construct_octet_string("info", const_cast<char*>(info.data()), info.size()),
      OSSL_PARAM_construct_end()};
  Bytes expected(kAppPasswordKeyBytes);
  EXPECT_EQ(EVP_KDF_derive(ctx, expected.data(), expected.size(), params), 1);
  EVP_KDF_CTX_free(ctx);
  EXPECT_EQ(to_hex(key->bytes()), to_hex(expected));
}

TEST(Derivation, VersionsGiveDifferentPasswordsAndChallenges) {
  const Bytes secret(32, 0x42);
  const GrantId id = fido2_grant().grant_id;
  const Bytes enc = encode_grant(fido2_grant());
  EXPECT_NE(password_of(secret, id, kGrantVersionV1), password_of(secret, id, kGrantVersionV2));
  EXPECT_NE(hex(*grant_challenge(kGrantVersionV1, enc)),
            hex(*grant_challenge(kGrantVersionV2, enc)));
  EXPECT_NE(hex(*hmac_salt(kGrantVersionV1, id)), hex(*hmac_salt(kGrantVersionV2, id)));
}

TEST(Derivation, RefusesUnknownVersions) {
  const Bytes enc = encode_grant(fido2_grant());
  const GrantId id = fido2_grant().grant_id;
  for (std::uint64_t v : {0ull, 3ull, 255ull}) {
    EXPECT_EQ(grant_challenge(v, enc).code(), Code::invalid_argument) << v;
    EXPECT_EQ(show_challenge(v, enc, Bytes(16, 1)).code(), Code::invalid_argument) << v;
    EXPECT_EQ(hmac_salt(v, id).code(), Code::invalid_argument) << v;
    EXPECT_EQ(yubikey_challenge(v, id).code(), Code::invalid_argument) << v;
    EXPECT_EQ(derive_app_password(v, Bytes(32, 1), id).code(), Code::invalid_argument) << v;
  }
}

TEST(HmacSalt, V1IsSha256OfLabelAndGrantId) {
  const GrantId id = fido2_grant().grant_id;
  const Result<HmacSalt> salt = hmac_salt(kGrantVersionV1, id);
  ASSERT_TRUE(salt.ok());
  EXPECT_EQ(hex(*salt), to_hex(digest("SHA256", "touchpass/v1/salt", {id_bytes(id)})));
  EXPECT_NE(hex(*salt), hex(*hmac_salt(kGrantVersionV1, yubikey_grant().grant_id)));
}

TEST(HmacSalt, V2IsWhatABrowserSendsForThePrfInput) {
  // WebAuthn L3 §10.1.4: salt1 = SHA-256("WebAuthn PRF" || 0x00 || prf.eval.first).
  const GrantId id = fido2_grant().grant_id;
  const Bytes p = prf_input(id);
  EXPECT_EQ(p.size(), std::string_view("touchpass/v2/salt").size() + GrantId::kSize);
  Bytes expected_p = bytes_of("touchpass/v2/salt");
  expected_p.insert(expected_p.end(), id.bytes().begin(), id.bytes().end());
  EXPECT_EQ(p, expected_p);
  const Result<HmacSalt> salt = hmac_salt(kGrantVersionV2, id);
  ASSERT_TRUE(salt.ok());
  EXPECT_EQ(hex(*salt), to_hex(digest("SHA256", std::string("WebAuthn PRF") + '\0', {p})));
}

TEST(DeriveAppPasswordKey, IsThirteenBytes) {
  for (std::size_t n : {kFido2SecretBytes, kYubiKeySecretBytes}) {
    const Result<SecretBytes> key =
        derive_app_password_key(kGrantVersionV2, Bytes(n, 0x42), fido2_grant().grant_id);
    ASSERT_TRUE(key.ok()) << n;
    EXPECT_EQ(key->size(), kAppPasswordKeyBytes);
  }
}

TEST(DeriveAppPasswordKey, RefusesATokenSecretOfAnotherSize) {
  for (std::uint64_t v : {kGrantVersionV1, kGrantVersionV2}) {
    for (std::size_t n : {0u, 1u, 16u, 19u, 21u, 31u, 33u, 64u}) {
      const Result<SecretBytes> key =
          derive_app_password_key(v, Bytes(n, 0x42), fido2_grant().grant_id);
      ASSERT_FALSE(key.ok()) << n;
      EXPECT_EQ(key.code(), Code::invalid_argument);
      EXPECT_EQ(derive_app_password(v, Bytes(n, 0x42), fido2_grant().grant_id).code(),
                Code::invalid_argument);
    }
  }
}

TEST(DeriveAppPassword, IsTheFormattedKey) {
  const Bytes secret(32, 0x42);
  const GrantId id = fido2_grant().grant_id;
  const Result<SecretBytes> key = derive_app_password_key(kGrantVersionV1, secret, id);
  ASSERT_TRUE(key.ok());
  const Result<AppPassword> formatted = format_password(key->bytes());
  ASSERT_TRUE(formatted.ok());
  EXPECT_EQ(password_of(secret, id), formatted->grouped());
}

TEST(DeriveAppPassword, ShowReproducesTheIssuedPassword) {
  // Re-deriving with the same S and grant id (what a show does) gives the same password.
  const Bytes secret(20, 0x99);
  const GrantId id = yubikey_grant().grant_id;
  EXPECT_EQ(password_of(secret, id), password_of(secret, id));
}

TEST(DeriveAppPassword, DependsOnTheTokenSecretAndTheGrantId) {
  const GrantId a = fido2_grant().grant_id;
  const GrantId b = yubikey_grant().grant_id;
  Bytes secret(32, 0x42);
  std::set<std::string> seen = {password_of(secret, a)};
  EXPECT_TRUE(seen.insert(password_of(secret, b)).second);
  secret[31] ^= 1;
  EXPECT_TRUE(seen.insert(password_of(secret, a)).second);
  EXPECT_TRUE(seen.insert(password_of(Bytes(20, 0x42), a)).second);
}

}  // namespace
}  // namespace touchpass
