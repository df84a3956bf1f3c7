#include "core/derivation.h"

#include <gtest/gtest.h>

#include <openssl/evp.h>

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

std::string password_of(const Bytes& secret, const GrantId& id) {
  const Result<AppPassword> pw = derive_app_password(secret, id);
  EXPECT_TRUE(pw.ok()) << (pw.ok() ? "" : pw.error().message);
  return pw.ok() ? std::string(pw->grouped()) : std::string();
}

TEST(Derivation, LabelsAreTheNormativeStrings) {
  EXPECT_EQ(kGrantLabel, "touchpass/v1/grant");
  EXPECT_EQ(kShowLabel, "touchpass/v1/show");
  EXPECT_EQ(kSaltLabel, "touchpass/v1/salt");
  EXPECT_EQ(kChallengeLabel, "touchpass/v1/challenge");
  EXPECT_EQ(kAppPasswordInfo, "touchpass/v1/app-password");
}

TEST(ClientDataHash, ForAGrantIsSha256OfLabelAndEncoding) {
  const Bytes enc = encode_grant(fido2_grant());
  const Result<ClientDataHash> h = client_data_hash_for_grant(enc);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(hex(*h), to_hex(digest("SHA256", "touchpass/v1/grant", {enc})));
}

TEST(ClientDataHash, ForAShowIsSha256OfLabelEncodingAndNonce) {
  const Bytes enc = encode_grant(fido2_grant());
  const Bytes nonce(32, 0x07);
  const Result<ClientDataHash> h = client_data_hash_for_show(enc, nonce);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(hex(*h), to_hex(digest("SHA256", "touchpass/v1/show", {enc, nonce})));
}

TEST(ClientDataHash, ShowDiffersFromIssueAndFromEveryOtherNonce) {
  const Bytes enc = encode_grant(fido2_grant());
  std::set<std::string> seen = {hex(*client_data_hash_for_grant(enc))};
  for (std::uint8_t i = 0; i < 8; ++i) {
    Bytes nonce(16, 0);
    nonce[15] = i;
    EXPECT_TRUE(seen.insert(hex(*client_data_hash_for_show(enc, nonce))).second) << int{i};
  }
  EXPECT_TRUE(seen.insert(hex(*client_data_hash_for_show(enc, Bytes(17, 0)))).second);
}

TEST(ClientDataHash, RejectsAnEmptyEncodingAndAShortNonce) {
  const Bytes enc = encode_grant(fido2_grant());
  EXPECT_EQ(client_data_hash_for_grant({}).code(), Code::invalid_argument);
  EXPECT_EQ(client_data_hash_for_show({}, Bytes(32, 1)).code(), Code::invalid_argument);
  EXPECT_EQ(client_data_hash_for_show(enc, {}).code(), Code::invalid_argument);
  EXPECT_EQ(client_data_hash_for_show(enc, Bytes(15, 1)).code(), Code::invalid_argument);
  EXPECT_TRUE(client_data_hash_for_show(enc, Bytes(16, 1)).ok());
}

TEST(HmacSalt, IsSha256OfLabelAndGrantId) {
  const GrantId id = fido2_grant().grant_id;
  const Result<HmacSalt> salt = hmac_salt(id);
  ASSERT_TRUE(salt.ok());
  EXPECT_EQ(hex(*salt), to_hex(digest("SHA256", "touchpass/v1/salt", {id_bytes(id)})));
  EXPECT_NE(hex(*salt), hex(*hmac_salt(yubikey_grant().grant_id)));
}

TEST(YubiKeyChallenge, IsSixtyFourBytesOfSha512OfLabelAndGrantId) {
  const GrantId id = yubikey_grant().grant_id;
  const Result<YubiKeyChallenge> challenge = yubikey_challenge(id);
  ASSERT_TRUE(challenge.ok());
  EXPECT_EQ(challenge->size(), 64u);
  EXPECT_EQ(hex(*challenge), to_hex(digest("SHA512", "touchpass/v1/challenge", {id_bytes(id)})));
}

TEST(DeriveAppPasswordKey, IsThirteenBytes) {
  for (std::size_t n : {kFido2SecretBytes, kYubiKeySecretBytes}) {
    const Result<SecretBytes> key = derive_app_password_key(Bytes(n, 0x42), fido2_grant().grant_id);
    ASSERT_TRUE(key.ok()) << n;
    EXPECT_EQ(key->size(), kAppPasswordKeyBytes);
  }
}

TEST(DeriveAppPasswordKey, RefusesATokenSecretOfAnotherSize) {
  for (std::size_t n : {0u, 1u, 16u, 19u, 21u, 31u, 33u, 64u}) {
    const Result<SecretBytes> key = derive_app_password_key(Bytes(n, 0x42), fido2_grant().grant_id);
    ASSERT_FALSE(key.ok()) << n;
    EXPECT_EQ(key.code(), Code::invalid_argument);
    EXPECT_EQ(derive_app_password(Bytes(n, 0x42), fido2_grant().grant_id).code(),
              Code::invalid_argument);
  }
}

TEST(DeriveAppPassword, IsTheFormattedKey) {
  const Bytes secret(32, 0x42);
  const GrantId id = fido2_grant().grant_id;
  const Result<SecretBytes> key = derive_app_password_key(secret, id);
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
