// The relying party's checks of what a key signed (client_data.h, authenticator_data.h,
// assertion.h), on data made by the virtual token's own encoders and a real P-256 key.
#include <gtest/gtest.h>

#include <string>

#include "core/assertion.h"
#include "core/authenticator_data.h"
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
const Bytes kChallenge(32, 0x5a);

std::string client_data_json(const std::string& type, const Bytes& challenge,
                             const std::string& origin, const std::string& extra = "") {
  return R"({"type":")" + type + R"(","challenge":")" + to_base64url(challenge) +
         R"(","origin":")" + origin + "\"" + extra + "}";
}

Bytes rp_hash_of(const std::string& rp_id) {
  const auto h = rp_id_hash(rp_id);
  return Bytes(h->begin(), h->end());
}

// A key and what it signs, assembled the way a CTAP2 key does.
struct Signer {
  vcrypto::P256Key key = vcrypto::P256Key::generate();

  Es256PublicKey public_key() const {
    Es256PublicKey k;
    const Bytes x = key.x();
    const Bytes y = key.y();
    std::copy(x.begin(), x.end(), k.x.begin());
    std::copy(y.begin(), y.end(), k.y.begin());
    return k;
  }

  SignedAssertion sign(std::uint8_t flags, std::uint32_t count, const std::string& client_data,
                       const std::string& rp_id = kRpId) const {
    SignedAssertion a;
    a.authenticator_data =
        vtoken::encode_auth_data(rp_hash_of(rp_id), flags, count, std::nullopt, std::nullopt);
    a.client_data_json = client_data;
    a.signature =
        key.sign(vcrypto::concat(a.authenticator_data, vcrypto::sha256(bytes_of(client_data))));
    return a;
  }
};

AssertionExpectation expectation(const std::vector<std::string>& origins) {
  AssertionExpectation e;
  e.rp_id = kRpId;
  e.client_data.type = kClientDataGet;
  e.client_data.challenge = kChallenge;
  e.client_data.origins = origins;
  return e;
}

TEST(ClientData, ParsesWhatABrowserSends) {
  const auto data = parse_client_data(
      client_data_json("webauthn.get", kChallenge, kOrigin, R"(,"crossOrigin":false,"other":[1])"));
  ASSERT_TRUE(data.ok()) << data.error().message;
  EXPECT_EQ(data->type, "webauthn.get");
  EXPECT_EQ(data->challenge, kChallenge);
  EXPECT_EQ(data->origin, kOrigin);
  EXPECT_FALSE(data->cross_origin);
}

TEST(ClientData, RefusesWhatIsNotClientData) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const std::string nested_member =
      R"({"type":"webauthn.get","challenge":"AA","origin":"x","a":[[[[[1]]]]]})";
  for (const std::string& bad :
       {std::string("not json"), std::string("[]"), std::string(R"({"type":"webauthn.get"})"),
        std::string(R"({"type":1,"challenge":"AA","origin":"x"})"),
        std::string(R"({"type":"webauthn.get","challenge":"AA==","origin":"x"})"),
        std::string(R"({"type":"webauthn.get","challenge":"AA","origin":"x","crossOrigin":0})"),
        std::string(5000, ' ') + "{}", deep, nested_member}) {
    const auto data = parse_client_data(bad);
    ASSERT_FALSE(data.ok()) << bad.substr(0, 80);
    EXPECT_EQ(data.code(), Code::verification_failed);
  }
}

TEST(ClientData, ChecksTypeChallengeOriginAndCrossOrigin) {
  const std::vector<std::string> origins = {kOrigin, "touchpass:cli"};
  ClientDataExpectation e{kClientDataGet, kChallenge, origins};
  const auto ok = parse_client_data(client_data_json("webauthn.get", kChallenge, kOrigin));
  EXPECT_TRUE(check_client_data(*ok, e).ok());
  const auto cli = parse_client_data(client_data_json("webauthn.get", kChallenge, "touchpass:cli"));
  EXPECT_TRUE(check_client_data(*cli, e).ok());

  Bytes other = kChallenge;
  other[0] ^= 1;
  const std::string cases[] = {
      client_data_json("webauthn.create", kChallenge, kOrigin),
      client_data_json("webauthn.get", other, kOrigin),
      client_data_json("webauthn.get", Bytes(31, 0x5a), kOrigin),
      client_data_json("webauthn.get", kChallenge, "https://evil.example.org"),
      client_data_json("webauthn.get", kChallenge, "https://mail.example.org:8443"),
      client_data_json("webauthn.get", kChallenge, kOrigin, R"(,"crossOrigin":true)")};
  for (const std::string& c : cases) {
    const auto data = parse_client_data(c);
    ASSERT_TRUE(data.ok()) << c;
    const Status s = check_client_data(*data, e);
    EXPECT_EQ(s.code(), Code::verification_failed) << c;
    EXPECT_EQ(s.message().find("evil"), std::string::npos) << "echoes the client's text";
  }
}

TEST(AuthenticatorData, ParsesTheFixedPartAttestedCredentialAndExtensions) {
  Signer s;
  const Bytes cose = vtoken::encode_cose_key(s.key, vtoken::kCoseEs256);
  const Bytes aaguid(16, 0xaa);
  const Bytes id(70, 0x17);
  CborWriter ext;
  ext.map(1).text("credProtect").uint(2);
  const Bytes encoded =
      vtoken::encode_auth_data(rp_hash_of(kRpId), vtoken::kFlagUp | vtoken::kFlagUv, 0x01020304,
                               vtoken::AttestedCredential{aaguid, id, cose}, ext.take());
  const auto data = parse_authenticator_data(encoded);
  ASSERT_TRUE(data.ok()) << data.error().message;
  EXPECT_EQ(Bytes(data->rp_id_hash.begin(), data->rp_id_hash.end()), rp_hash_of(kRpId));
  EXPECT_TRUE(data->user_present());
  EXPECT_TRUE(data->user_verified());
  EXPECT_EQ(data->sign_count, 0x01020304u);
  ASSERT_TRUE(data->attested.has_value());
  EXPECT_EQ(Bytes(data->attested->aaguid.begin(), data->attested->aaguid.end()), aaguid);
  EXPECT_EQ(data->attested->credential_id, id);
  EXPECT_EQ(data->attested->cose_key, cose);
  EXPECT_FALSE(data->extensions.empty());
  const auto key = parse_cose_public_key(data->attested->cose_key);
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(key->raw(), vcrypto::concat(s.key.x(), s.key.y()));
}

TEST(AuthenticatorData, RefusesDataThatDoesNotMatchItsFlags) {
  Signer s;
  const Bytes cose = vtoken::encode_cose_key(s.key, vtoken::kCoseEs256);
  const Bytes with_key = vtoken::encode_auth_data(
      rp_hash_of(kRpId), vtoken::kFlagUp, 1,
      vtoken::AttestedCredential{Bytes(16, 0), Bytes(16, 1), cose}, std::nullopt);
  const Bytes plain =
      vtoken::encode_auth_data(rp_hash_of(kRpId), vtoken::kFlagUp, 1, std::nullopt, std::nullopt);
  std::vector<Bytes> cases = {
      Bytes(36, 0),                                         // shorter than the fixed part
      Bytes(with_key.begin(), with_key.end() - 1),          // the key cut short
      Bytes(with_key.begin(), with_key.begin() + 37 + 17),  // the attested header cut short
      Bytes(kMaxAuthenticatorDataBytes + 1, 0),
  };
  Bytes trailing = plain;
  trailing.push_back(0);
  cases.push_back(trailing);
  Bytes promised_ed = plain;
  promised_ed[32] |= kAuthFlagEd;  // ED without extensions
  cases.push_back(promised_ed);
  Bytes zero_id = with_key;
  zero_id[37 + 16] = 0;
  zero_id[37 + 17] = 0;
  cases.push_back(zero_id);
  for (const Bytes& bad : cases) {
    const auto data = parse_authenticator_data(bad);
    ASSERT_FALSE(data.ok()) << to_hex(bad).substr(0, 100);
    EXPECT_EQ(data.code(), Code::malformed_reply);
  }
}

TEST(CosePublicKey, AcceptsEs256OnlyAndSaysWhatElseItGot) {
  CborWriter eddsa;
  eddsa.map(4).uint(1).uint(1).uint(3).nint(-8).nint(-1).uint(6).nint(-2).bytes(Bytes(32, 1));
  const auto e = parse_cose_public_key(eddsa.take());
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.code(), Code::capability_missing);
  EXPECT_NE(e.error().message.find("ES256"), std::string::npos);

  CborWriter short_x;
  short_x.map(5).uint(1).uint(2).uint(3).nint(-7).nint(-1).uint(1).nint(-2).bytes(Bytes(31, 1));
  short_x.nint(-3).bytes(Bytes(32, 1));
  EXPECT_EQ(parse_cose_public_key(short_x.take()).code(), Code::malformed_reply);

  Signer s;
  Bytes trailing = vtoken::encode_cose_key(s.key, vtoken::kCoseEs256);
  trailing.push_back(0);
  EXPECT_EQ(parse_cose_public_key(trailing).code(), Code::malformed_reply);
  EXPECT_EQ(parse_cose_public_key(Bytes{}).code(), Code::malformed_reply);
}

TEST(VerifyAssertion, AcceptsWhatTheKeySignedAndReturnsTheCounter) {
  Signer s;
  const std::vector<std::string> origins = {kOrigin};
  AssertionExpectation e = expectation(origins);
  e.sign_count = 6;
  const auto a = s.sign(vtoken::kFlagUp, 7, client_data_json("webauthn.get", kChallenge, kOrigin));
  const auto data = verify_assertion(a, s.public_key(), e);
  ASSERT_TRUE(data.ok()) << data.error().message;
  EXPECT_EQ(data->sign_count, 7u);
  // A key that keeps no counter (always 0) is accepted while the stored counter is 0.
  e.sign_count = 0;
  const auto zero = s.sign(vtoken::kFlagUp, 0, a.client_data_json);
  EXPECT_TRUE(verify_assertion(zero, s.public_key(), e).ok());
}

TEST(VerifyAssertion, RefusesEveryHostileVariation) {
  Signer s;
  Signer other;
  const std::vector<std::string> origins = {kOrigin};
  AssertionExpectation e = expectation(origins);
  e.sign_count = 10;
  const std::string good_client = client_data_json("webauthn.get", kChallenge, kOrigin);
  const SignedAssertion good = s.sign(vtoken::kFlagUp, 11, good_client);
  ASSERT_TRUE(verify_assertion(good, s.public_key(), e).ok());

  struct Case {
    const char* what;
    SignedAssertion assertion;
    Code code;
    bool user_verification = false;
  };
  SignedAssertion forged = good;
  forged.signature[forged.signature.size() / 2] ^= 1;
  SignedAssertion swapped_client = good;  // signed one client data, relays another
  swapped_client.client_data_json =
      client_data_json("webauthn.get", kChallenge, kOrigin, R"(,"crossOrigin":false)");
  SignedAssertion flipped_flags = good;  // UV added after signing
  flipped_flags.authenticator_data[32] |= kAuthFlagUv;
  Bytes other_challenge = kChallenge;
  other_challenge[5] ^= 0x80;
  const Case cases[] = {
      {"forged signature", forged, Code::verification_failed},
      {"another key's signature", other.sign(vtoken::kFlagUp, 11, good_client),
       Code::verification_failed},
      {"relayed other client data", swapped_client, Code::verification_failed},
      {"flags changed after signing", flipped_flags, Code::verification_failed},
      {"wrong rp id", s.sign(vtoken::kFlagUp, 11, good_client, "evil.org"),
       Code::verification_failed},
      {"no touch", s.sign(0, 11, good_client), Code::verification_failed},
      {"UV missing for a UV credential", s.sign(vtoken::kFlagUp, 11, good_client),
       Code::verification_failed, true},
      {"another ceremony's challenge",
       s.sign(vtoken::kFlagUp, 11, client_data_json("webauthn.get", other_challenge, kOrigin)),
       Code::verification_failed},
      {"wrong origin",
       s.sign(vtoken::kFlagUp, 11,
              client_data_json("webauthn.get", kChallenge, "https://evil.example")),
       Code::verification_failed},
      {"wrong type",
       s.sign(vtoken::kFlagUp, 11, client_data_json("webauthn.create", kChallenge, kOrigin)),
       Code::verification_failed},
      {"counter not moving", s.sign(vtoken::kFlagUp, 10, good_client), Code::clone_suspected},
      {"counter back to 0", s.sign(vtoken::kFlagUp, 0, good_client), Code::clone_suspected},
      {"garbage authenticator data", SignedAssertion{Bytes(3, 0), good_client, good.signature},
       Code::malformed_reply},
  };
  for (const Case& c : cases) {
    AssertionExpectation expected = e;
    expected.user_verification = c.user_verification;
    const auto result = verify_assertion(c.assertion, s.public_key(), expected);
    ASSERT_FALSE(result.ok()) << c.what;
    EXPECT_EQ(result.code(), c.code) << c.what << ": " << result.error().message;
  }
}

TEST(VerifyEs256Signature, RefusesAKeyThatIsNotOnTheCurve) {
  Signer s;
  Es256PublicKey off = s.public_key();
  off.y[31] ^= 1;
  const Bytes message = bytes_of("m");
  EXPECT_EQ(verify_es256_signature(off, message, s.key.sign(message)).code(),
            Code::verification_failed);
  EXPECT_TRUE(verify_es256_signature(s.public_key(), message, s.key.sign(message)).ok());
  EXPECT_EQ(verify_es256_signature(s.public_key(), message, Bytes{0x30, 0x00}).code(),
            Code::verification_failed);
}

}  // namespace
}  // namespace touchpass
