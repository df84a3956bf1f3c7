// The typed ceremony messages (ipc/ceremony.h): offers parse strictly, and what parses survives
// its own serialization.
#include "ipc/ceremony.h"

#include <gtest/gtest.h>

namespace touchpass::ipc {
namespace {

EnrollOffer yubikey_enroll_offer() {
  EnrollOffer o;
  o.ceremony = Bytes(kCeremonyIdBytes, 0xce);
  o.expires_in = 180;
  o.kind = TokenKind::yubikey;
  o.program = true;
  o.rolling_challenge = Bytes(64, 0x44);
  return o;
}

CeremonyOffer fido2_offer() {
  CeremonyOffer o;
  o.ceremony = Bytes(kCeremonyIdBytes, 0xce);
  o.expires_in = 180;
  o.origin = "touchpass";
  o.salt = Bytes(32, 0x5a);
  OfferedCredential c;
  c.token = "blue key";
  c.credential = Bytes(16, 0xc1);
  c.rp_id = "touchpass";
  c.public_key = Bytes(64, 0x04);
  c.challenge = Bytes(32, 0x0c);
  o.credentials = {c};
  return o;
}

// Found by fuzz_ceremony: an offer without "expires_in" parsed (as 0 seconds), and its
// to_json() then wrote "expires_in": 0, which no parse accepts.
TEST(CeremonyOfferTest, AnEnrollOfferWithoutExpiresInIsRefused) {
  Json j = yubikey_enroll_offer().to_json();
  j.erase("expires_in");
  const auto parsed = EnrollOffer::parse(j);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.code(), Code::protocol_error);
  EXPECT_NE(parsed.error().message.find("expires_in"), std::string::npos);
}

TEST(CeremonyOfferTest, AnIssueOfferWithoutExpiresInIsRefused) {
  Json j = fido2_offer().to_json();
  j["expires_in"] = nullptr;
  const auto parsed = CeremonyOffer::parse(j);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.code(), Code::protocol_error);
}

TEST(CeremonyOfferTest, ParsedOffersSerializeToTheSameJson) {
  const Json enroll = yubikey_enroll_offer().to_json();
  const auto enroll_parsed = EnrollOffer::parse(enroll);
  ASSERT_TRUE(enroll_parsed.ok()) << enroll_parsed.error().message;
  EXPECT_EQ(enroll_parsed->to_json(), enroll);
  const Json issue = fido2_offer().to_json();
  const auto issue_parsed = CeremonyOffer::parse(issue);
  ASSERT_TRUE(issue_parsed.ok()) << issue_parsed.error().message;
  EXPECT_EQ(issue_parsed->to_json(), issue);
}

}  // namespace
}  // namespace touchpass::ipc
