// The relying party's checks in src/core (authenticator_data.h, assertion.h) on what a key
// really returns: the virtual token reached through the real libfido2 (the Fido2Token backend),
// for a v2 grant ceremony whose client data is WebAuthn JSON. libfido2's fido_assert_verify
// judges the same bytes independently.
#include <fido.h>
#include <fido/es256.h>
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <string>

#include "core/assertion.h"
#include "core/authenticator_data.h"
#include "core/client_data.h"
#include "core/derivation.h"
#include "core/grant.h"
#include "devices/fido2/fido2_token.h"
#include "devices/fido2/handles.h"
#include "support/virtual_token.h"

namespace touchpass::devices::fido2 {
namespace {

using namespace std::chrono_literals;
using testing::InProcessVirtualToken;
using testing::TempDir;

constexpr std::string_view kRpId = "example.org";
constexpr std::string_view kPin = "4711-pin";
const std::string kOrigin = "touchpass:cli";

Bytes sha256_of(std::string_view text) {
  Bytes out(SHA256_DIGEST_LENGTH);
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), out.data());
  return out;
}

std::string client_data_json(std::span<const std::uint8_t> challenge) {
  return R"({"type":"webauthn.get","challenge":")" + to_base64url(challenge) + R"(","origin":")" +
         kOrigin + R"(","crossOrigin":false})";
}

class RelyingPartyCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    vtoken::Config config;
    config.initial_pin = std::string(kPin);
    auto token = InProcessVirtualToken::start(dir_.path(), std::move(config), {});
    ASSERT_TRUE(token.ok()) << token.error().message;
    vtoken_ = std::move(token).value();
    auto opened = vtoken_->open();
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    backend_ = std::move(opened).value();

    EnrollRequest request;
    request.rp_id = std::string(kRpId);
    request.rp_name = "touchpass";
    request.user_id = bytes_of("alice");
    request.user_name = "alice";
    request.client_data_hash = sha256_of("enroll");
    request.uv = UserVerification::pin;
    request.pin = &pin_;
    request.timeout = 10s;
    auto enrollment = backend_->enroll(request);
    ASSERT_TRUE(enrollment.ok()) << enrollment.error().message;
    enrollment_ = std::move(enrollment).value();
  }

  // The grant a v2 ceremony would sign for.
  Grant grant() const {
    Grant g;
    g.version = kGrantVersionV2;
    g.grant_id = *GrantId::from_bytes(Bytes(16, 0x42));
    g.user = "alice";
    g.name = "thunderbird";
    g.scopes = {"imap", "smtp"};
    g.created = 1764000000;
    g.kind = TokenKind::fido2;
    g.credential = enrollment_.credential.id;
    g.rp_id = std::string(kRpId);
    return g;
  }

  TempDir dir_;
  SecretBytes pin_ = SecretBytes::copy_of(kPin);
  std::unique_ptr<InProcessVirtualToken> vtoken_;
  std::unique_ptr<Fido2Token> backend_;
  Enrollment enrollment_;
};

TEST_F(RelyingPartyCheckTest, TheEnrollmentsCoseKeyIsTheKeyLibfido2Reports) {
  const auto data = parse_authenticator_data(enrollment_.auth_data);
  ASSERT_TRUE(data.ok()) << data.error().message;
  ASSERT_TRUE(data->attested.has_value());
  EXPECT_EQ(data->attested->credential_id, enrollment_.credential.id);
  EXPECT_TRUE(data->user_present());
  EXPECT_EQ(Bytes(data->rp_id_hash.begin(), data->rp_id_hash.end()), sha256_of(kRpId));
  const auto key = parse_cose_public_key(data->attested->cose_key);
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(key->raw(), enrollment_.credential.public_key);
}

TEST_F(RelyingPartyCheckTest, AV2GrantAssertionVerifiesHereAndWithLibfido2) {
  const Grant g = grant();
  ASSERT_TRUE(validate_grant(g).ok()) << validate_grant(g).message();
  const auto challenge = grant_challenge(g.version, encode_grant(g));
  ASSERT_TRUE(challenge.ok());
  const std::string client_data = client_data_json(*challenge);
  const auto salt = hmac_salt(g.version, g.grant_id);
  ASSERT_TRUE(salt.ok());

  AssertRequest request;
  request.credential = enrollment_.credential;
  request.client_data_hash = sha256_of(client_data);
  request.salt = Bytes(salt->begin(), salt->end());
  request.pin = &pin_;
  request.timeout = 10s;
  auto assertion = backend_->assert_hmac_secret(request);
  ASSERT_TRUE(assertion.ok()) << assertion.error().message;

  const auto key =
      parse_cose_public_key(parse_authenticator_data(enrollment_.auth_data)->attested->cose_key);
  ASSERT_TRUE(key.ok());
  const std::vector<std::string> origins = {kOrigin};
  AssertionExpectation expected;
  expected.rp_id = kRpId;
  expected.client_data = {kClientDataGet, *challenge, origins};
  expected.user_verification = true;
  expected.sign_count = enrollment_.credential.sign_count;
  const SignedAssertion signed_assertion{assertion->auth_data, client_data, assertion->signature};
  const auto checked = verify_assertion(signed_assertion, *key, expected);
  ASSERT_TRUE(checked.ok()) << checked.error().message;
  EXPECT_EQ(checked->sign_count, assertion->sign_count);

  // libfido2 agrees, from the same bytes and the JSON (it hashes the client data itself).
  AssertPtr built(fido_assert_new());
  Es256PkPtr pk(es256_pk_new());
  ASSERT_EQ(fido_assert_set_count(built.get(), 1), FIDO_OK);
  ASSERT_EQ(fido_assert_set_rp(built.get(), std::string(kRpId).c_str()), FIDO_OK);
  ASSERT_EQ(fido_assert_set_clientdata(built.get(),
                                       reinterpret_cast<const unsigned char*>(client_data.data()),
                                       client_data.size()),
            FIDO_OK);
  ASSERT_EQ(fido_assert_set_authdata_raw(built.get(), 0, assertion->auth_data.data(),
                                         assertion->auth_data.size()),
            FIDO_OK);
  ASSERT_EQ(
      fido_assert_set_sig(built.get(), 0, assertion->signature.data(), assertion->signature.size()),
      FIDO_OK);
  ASSERT_EQ(fido_assert_set_extensions(built.get(), FIDO_EXT_HMAC_SECRET), FIDO_OK);
  ASSERT_EQ(fido_assert_set_up(built.get(), FIDO_OPT_TRUE), FIDO_OK);
  ASSERT_EQ(fido_assert_set_uv(built.get(), FIDO_OPT_TRUE), FIDO_OK);
  ASSERT_EQ(es256_pk_from_ptr(pk.get(), key->raw().data(), key->raw().size()), FIDO_OK);
  EXPECT_EQ(fido_assert_verify(built.get(), 0, COSE_ES256, pk.get()), FIDO_OK);

  // The same assertion relayed for another ceremony, or as if without UV needed but from
  // another origin, is refused.
  const Bytes other_challenge(32, 0x01);
  AssertionExpectation replayed = expected;
  replayed.client_data.challenge = other_challenge;
  EXPECT_EQ(verify_assertion(signed_assertion, *key, replayed).code(), Code::verification_failed);
  AssertionExpectation again = expected;
  again.sign_count = checked->sign_count;  // a second use of the same assertion
  EXPECT_EQ(verify_assertion(signed_assertion, *key, again).code(), Code::clone_suspected);
}

}  // namespace
}  // namespace touchpass::devices::fido2
