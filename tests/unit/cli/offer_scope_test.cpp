// What a server reached with --server may ask of the user's key: only its own origin and its
// own credentials.
#include "cli/offer_scope.h"

#include <gtest/gtest.h>

namespace touchpass::cli {
namespace {

const WebOrigin kServer{"https://mail.example.org", "mail.example.org"};

ipc::OfferedCredential fido2(const std::string& rp_id, std::uint8_t id) {
  ipc::OfferedCredential c;
  c.kind = TokenKind::fido2;
  c.rp_id = rp_id;
  c.credential = Bytes(16, id);
  c.challenge = Bytes(32, 3);
  return c;
}

ipc::CeremonyOffer offer(std::vector<ipc::OfferedCredential> credentials) {
  ipc::CeremonyOffer o;
  o.origin = kServer.origin;
  o.credentials = std::move(credentials);
  return o;
}

TEST(OfferScope, KeepsOnlyTheServersOwnFido2Credentials) {
  ipc::OfferedCredential yubikey;
  yubikey.kind = TokenKind::yubikey;
  yubikey.credential = Bytes(5, 9);
  ipc::OfferedCredential v1 = fido2("mail.example.org", 4);
  v1.challenge.clear();
  v1.client_data_hash = Bytes(32, 5);
  auto o = offer({fido2("touchpass", 1), fido2("mail.example.org", 2), yubikey, v1,
                  fido2("example.org", 6), fido2("evil.example", 7)});
  ASSERT_TRUE(scope_offer(o, kServer).ok());
  ASSERT_EQ(o.credentials.size(), 1u);
  EXPECT_EQ(o.credentials[0].credential, Bytes(16, 2));
}

TEST(OfferScope, AnotherOriginIsRefused) {
  auto o = offer({fido2("mail.example.org", 2)});
  o.origin = "https://mail.example.org:8443";
  const Status s = scope_offer(o, kServer);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::permission_denied);
  EXPECT_NE(s.error().message.find("https://mail.example.org:8443"), std::string::npos);
}

TEST(OfferScope, NothingLeftIsNoCredentials) {
  auto o = offer({fido2("touchpass", 1)});
  const Status s = scope_offer(o, kServer);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::no_credentials);
  EXPECT_NE(s.error().message.find("--server https://mail.example.org enroll"), std::string::npos);
}

TEST(OfferScope, EnrollOffersMustBeForTheServer) {
  ipc::EnrollOffer e;
  e.kind = TokenKind::fido2;
  e.origin = kServer.origin;
  e.rp_id = kServer.host;
  EXPECT_TRUE(scope_offer(e, kServer).ok());
  ipc::EnrollOffer other_rp = e;
  other_rp.rp_id = "touchpass";
  EXPECT_EQ(scope_offer(other_rp, kServer).code(), Code::permission_denied);
  ipc::EnrollOffer other_origin = e;
  other_origin.origin = "https://evil.example";
  EXPECT_EQ(scope_offer(other_origin, kServer).code(), Code::permission_denied);
  ipc::EnrollOffer yubikey = e;
  yubikey.kind = TokenKind::yubikey;
  EXPECT_EQ(scope_offer(yubikey, kServer).code(), Code::permission_denied);
}

}  // namespace
}  // namespace touchpass::cli
