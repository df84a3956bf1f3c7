// touchpass-web's requests in the daemon's handlers (service_fixture.h): a web user signs in with
// a ceremony touchpassd verifies (the key answers through the real libfido2), then acts on their
// own keys and passwords through the session — and without one, or as someone else, nothing.
#include <gtest/gtest.h>

#include "service_fixture.h"

namespace touchpass::daemon {
namespace {

constexpr const char* kWebOrigin = "https://mail.example.test";

class GatewayTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    config_.web_origin = *parse_web_origin(kWebOrigin);
    enroll_for("alice");
  }

  static Peer gateway() {
    Peer p = user_peer("touchpass-web", 990);
    p.pid = 4242;
    p.gateway = true;
    return p;
  }

  // The key's answer to an offer from `begun`.
  Result<client::KeyAnswer> answer(const Result<Outcome>& begun) {
    if (!begun.ok()) return begun.error();
    auto offer = ipc::CeremonyOffer::parse(begun->result);
    if (!offer.ok()) return offer.error();
    return client::answer_offer(*offer, *broker_, io_, client::DriverSettings{kTimeout});
  }

  static ipc::Request signin_begin(const std::string& user) {
    ipc::Request r = request(ipc::Op::signin_begin);
    r.user = user;
    return r;
  }

  // Signs `user` in through the gateway; the session token.
  Result<SecretBytes> sign_in(const std::string& user,
                              const std::function<void(client::KeyAnswer&)>& tamper = {}) {
    auto key = answer(handle(gateway(), signin_begin(user)));
    if (!key.ok()) return key.error();
    if (tamper) tamper(*key);
    ipc::Request finish = request(ipc::Op::finish);
    finish.finish = key->finish;
    auto signed_in = handle(gateway(), finish, joined(no_session(), key->secret));
    if (!signed_in.ok()) return signed_in.error();
    EXPECT_EQ(signed_in->result.at("user"), user);
    EXPECT_EQ(signed_in->result.value("session", false), true);
    return std::move(signed_in->secret);
  }

  // The session slot of a finish sent without a session.
  static SecretBytes no_session() { return SecretBytes(32); }

  static SecretBytes joined(const SecretBytes& a, const SecretBytes& b) {
    Bytes both(a.bytes().begin(), a.bytes().end());
    both.insert(both.end(), b.bytes().begin(), b.bytes().end());
    return SecretBytes::copy_of(both);
  }
};

TEST_F(GatewayTest, AWebUserSignsInWithTheKeyAndActsThroughTheSession) {
  auto session = sign_in("alice");
  ASSERT_TRUE(session.ok()) << session.error().message;
  ASSERT_EQ(session->size(), kWebSessionTokenBytes);
  EXPECT_EQ(audit_actions().back(), "signin:ok");

  const auto who = handle(gateway(), request(ipc::Op::session), *session);
  ASSERT_TRUE(who.ok()) << who.error().message;
  EXPECT_EQ(who->result.at("user"), "alice");
  const auto tokens = handle(gateway(), request(ipc::Op::tokens), *session);
  ASSERT_TRUE(tokens.ok()) << tokens.error().message;
  EXPECT_EQ(tokens->result.at("tokens").size(), 1u);

  ASSERT_TRUE(handle(gateway(), request(ipc::Op::signout), *session).ok());
  EXPECT_EQ(handle(gateway(), request(ipc::Op::tokens), *session).code(), Code::not_found);
}

TEST_F(GatewayTest, RevokingAKeyEndsEveryWebSessionOfItsUser) {
  // Someone signed in with alice's key (stolen, say); a session of bob's is not hers.
  auto thief = sign_in("alice");
  ASSERT_TRUE(thief.ok()) << thief.error().message;
  auto second = sign_in("alice");
  ASSERT_TRUE(second.ok()) << second.error().message;
  ipc::Request enroll_bob = request(ipc::Op::enroll_begin);
  enroll_bob.user = "bob";
  enroll_bob.label = "bob's key";
  ASSERT_TRUE(enroll_ceremony(root_peer(), enroll_bob).ok());
  auto bob = sign_in("bob");
  ASSERT_TRUE(bob.ok()) << bob.error().message;

  ipc::Request revoke = request(ipc::Op::revoke);
  revoke.user = "alice";
  revoke.token = "alice's key";
  const auto revoked = handle(root_peer(), revoke);
  ASSERT_TRUE(revoked.ok()) << revoked.error().message;
  EXPECT_EQ(revoked->result.at("signed_out"), 2);
  for (const SecretBytes* session : {&*thief, &*second}) {
    EXPECT_EQ(handle(gateway(), request(ipc::Op::tokens), *session).code(), Code::not_found);
    ipc::Request add_key = request(ipc::Op::enroll_begin);
    EXPECT_EQ(handle(gateway(), add_key, *session).code(), Code::not_found);
  }
  EXPECT_TRUE(handle(gateway(), request(ipc::Op::tokens), *bob).ok());
}

TEST_F(GatewayTest, OnTheWebASessionEnrollsOnlyFido2Keys) {
  auto session = sign_in("alice");
  ASSERT_TRUE(session.ok()) << session.error().message;
  ipc::Request yubikey = request(ipc::Op::enroll_begin);
  yubikey.kind = TokenKind::yubikey;
  const auto refused = handle(gateway(), yubikey, *session);
  EXPECT_EQ(refused.code(), Code::invalid_argument);
  EXPECT_NE(refused.error().message.find("only FIDO2"), std::string::npos);
  EXPECT_TRUE(handle(gateway(), request(ipc::Op::enroll_begin), *session).ok());
}

TEST_F(GatewayTest, SignInsBegunByStrangersBlockNeitherTheUsersSignInNorTheirSession) {
  auto session = sign_in("alice");
  ASSERT_TRUE(session.ok()) << session.error().message;
  // Anyone may begin sign-ins for alice, more than the sign-in table holds.
  for (int i = 0; i < 1100; ++i) {
    ASSERT_TRUE(handle(gateway(), signin_begin("alice")).ok()) << i;
  }
  ipc::Request issue = request(ipc::Op::issue_begin, "mail");
  EXPECT_TRUE(handle(gateway(), issue, *session).ok());
  auto again = sign_in("alice");
  EXPECT_TRUE(again.ok()) << again.error().message;
}

TEST_F(GatewayTest, WithoutASessionOrAsAnotherUserTheGatewayGetsNothing) {
  EXPECT_EQ(handle(gateway(), request(ipc::Op::list)).code(), Code::not_found);
  EXPECT_EQ(handle(gateway(), request(ipc::Op::list), SecretBytes::copy_of(Bytes(32, 7))).code(),
            Code::not_found);
  auto session = sign_in("alice");
  ASSERT_TRUE(session.ok()) << session.error().message;
  ipc::Request bobs = request(ipc::Op::list);
  bobs.user = "bob";
  EXPECT_EQ(handle(gateway(), bobs, *session).code(), Code::permission_denied);
  ipc::Request everyone = request(ipc::Op::list);
  everyone.all_users = true;
  EXPECT_EQ(handle(gateway(), everyone, *session).code(), Code::permission_denied);
  for (ipc::Op op : {ipc::Op::verify, ipc::Op::unlock, ipc::Op::invite, ipc::Op::devices}) {
    EXPECT_EQ(handle(gateway(), request(op), *session).code(), Code::permission_denied)
        << ipc::op_name(op);
  }
}

TEST_F(GatewayTest, OnlyTheGatewaySignsInAndOnlyWithAWebOrigin) {
  EXPECT_EQ(handle(user_peer("alice", 1001), signin_begin("alice")).code(),
            Code::permission_denied);
  EXPECT_EQ(handle(root_peer(), request(ipc::Op::session)).code(), Code::permission_denied);
  config_.web_origin.reset();
  EXPECT_EQ(handle(gateway(), signin_begin("alice")).code(), Code::permission_denied);
}

TEST_F(GatewayTest, ASignInAsksEveryKeyWithOneChallenge) {
  ipc::Request backup = request(ipc::Op::enroll_begin);
  backup.user = "alice";
  backup.label = "backup";
  ASSERT_TRUE(enroll_ceremony(root_peer(), backup).ok());
  const auto begun = handle(gateway(), signin_begin("alice"));
  ASSERT_TRUE(begun.ok()) << begun.error().message;
  const auto offer = ipc::CeremonyOffer::parse(begun->result);
  ASSERT_TRUE(offer.ok()) << offer.error().message;
  ASSERT_EQ(offer->credentials.size(), 2u);
  EXPECT_NE(offer->credentials[0].credential, offer->credentials[1].credential);
  EXPECT_EQ(offer->credentials[0].challenge, offer->credentials[1].challenge);
  // Either key finishes it.
  EXPECT_TRUE(sign_in("alice").ok());
}

TEST_F(GatewayTest, AForgedOrMisdirectedSignInOpensNoSession) {
  const std::size_t entries = audit_actions().size();
  // A signature over something else.
  auto forged = sign_in("alice", [](client::KeyAnswer& a) { a.finish.signature.back() ^= 1; });
  EXPECT_EQ(forged.code(), Code::verification_failed) << forged.error().message;
  // Client data naming another origin (a phishing page relaying the ceremony).
  auto phished = sign_in("alice", [](client::KeyAnswer& a) {
    std::string text(a.finish.client_data_json.begin(), a.finish.client_data_json.end());
    const auto at = text.find("mail.example.test");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, 17, "mail.example.evil");
    a.finish.client_data_json.assign(text.begin(), text.end());
  });
  EXPECT_EQ(phished.code(), Code::verification_failed) << phished.error().message;
  // A user with no key.
  EXPECT_EQ(handle(gateway(), signin_begin("bob")).code(), Code::not_found);
  EXPECT_EQ(audit_actions().size(), entries) << "failed sign-ins are counted, not audited";
}

TEST_F(GatewayTest, AWebIssueIsFinishedOnlyInTheSessionThatBeganIt) {
  auto session = sign_in("alice");
  ASSERT_TRUE(session.ok()) << session.error().message;
  ipc::Request begin = request(ipc::Op::issue_begin, "phone");
  begin.every_service = false;
  begin.scopes = {"imap"};

  // Without the session's token, the finish is refused (and the ceremony is spent).
  auto key = answer(handle(gateway(), begin, *session));
  ASSERT_TRUE(key.ok()) << key.error().message;
  ipc::Request finish = request(ipc::Op::finish);
  finish.finish = key->finish;
  // A finish shorter than the session slot is malformed, and leaves the ceremony alone.
  EXPECT_EQ(handle(gateway(), finish, SecretBytes(5)).code(), Code::protocol_error);
  EXPECT_EQ(handle(gateway(), finish, joined(no_session(), key->secret)).code(), Code::not_found);
  EXPECT_EQ(store_->list_grants("alice", true)->size(), 0u);

  key = answer(handle(gateway(), begin, *session));
  ASSERT_TRUE(key.ok()) << key.error().message;
  finish.finish = key->finish;
  const auto issued = handle(gateway(), finish, joined(*session, key->secret));
  ASSERT_TRUE(issued.ok()) << issued.error().message;
  EXPECT_TRUE(verify("alice", std::string(issued->secret.view())).ok());
  const auto grants = store_->list_grants("alice", false);
  ASSERT_TRUE(grants.ok());
  ASSERT_EQ(grants->size(), 1u);
  EXPECT_EQ(grants->front().name, "phone");
}

TEST_F(GatewayTest, LocalAndWebCeremoniesCannotBeFinishedAcrossTheBoundary) {
  // A local user's ceremony id relayed by the gateway is unknown there, and the other way round.
  const auto local = handle(root_peer(), [] {
    ipc::Request r = request(ipc::Op::issue_begin, "desk");
    r.user = "alice";
    return r;
  }());
  ASSERT_TRUE(local.ok()) << local.error().message;
  ipc::Request finish = request(ipc::Op::finish);
  finish.finish.ceremony = ipc::CeremonyOffer::parse(local->result)->ceremony;
  EXPECT_EQ(handle(gateway(), finish, no_session()).code(), Code::not_found);

  const auto web = handle(gateway(), signin_begin("alice"));
  ASSERT_TRUE(web.ok()) << web.error().message;
  finish.finish.ceremony = ipc::CeremonyOffer::parse(web->result)->ceremony;
  EXPECT_EQ(handle(root_peer(), finish).code(), Code::not_found);
}

TEST_F(GatewayTest, TheAccountPasswordEnrollsNothingUnlessTheAdminNamedAPamService) {
  ipc::Request r = request(ipc::Op::enroll_begin);
  r.account_password = true;
  r.user = "carol";
  const auto refused = handle(gateway(), r, SecretBytes::copy_of(std::string_view("hunter2")));
  EXPECT_EQ(refused.code(), Code::permission_denied);
  EXPECT_EQ(store_->list_tokens("carol", true)->size(), 0u);
}

// An invitation made on the server (`touchpass invite --user carol`).
class InvitedEnrollTest : public GatewayTest {
 protected:
  SecretBytes invite(const std::string& user) {
    ipc::Request r = request(ipc::Op::invite);
    r.user = user;
    auto invited = handle(root_peer(), r);
    EXPECT_TRUE(invited.ok()) << invited.error().message;
    return invited.ok() ? std::move(invited->secret) : SecretBytes();
  }
  static ipc::Request invited_enroll() {
    ipc::Request r = request(ipc::Op::enroll_begin);
    r.invitation = true;
    r.label = "web key";
    return r;
  }
  // The enroll ceremony through the gateway with the code `code`.
  Result<Outcome> enroll_with(const SecretBytes& code) {
    auto offered = handle(gateway(), invited_enroll(), code);
    if (!offered.ok()) return offered.error();
    auto offer = ipc::EnrollOffer::parse(offered->result);
    if (!offer.ok()) return offer.error();
    EXPECT_EQ(offer->rp_id, "mail.example.test");
    EXPECT_EQ(offer->origin, kWebOrigin);
    auto key = client::answer_enroll(*offer, *broker_, io_, client::DriverSettings{kTimeout});
    if (!key.ok()) return key.error();
    ipc::Request finish = request(ipc::Op::finish);
    finish.finish = key->finish;
    return handle(gateway(), finish, joined(no_session(), key->secret));
  }
};

TEST_F(InvitedEnrollTest, AnInvitationEnrollsAWebKeyOnceAndSignsTheUserIn) {
  const SecretBytes code = invite("carol");
  auto enrolled = enroll_with(code);
  ASSERT_TRUE(enrolled.ok()) << enrolled.error().message;
  EXPECT_EQ(enrolled->result.at("user"), "carol");
  EXPECT_EQ(enrolled->result.value("session", false), true);
  EXPECT_EQ(enrolled->result.at("token").at("label"), "web key");
  const auto who = handle(gateway(), request(ipc::Op::session), enrolled->secret);
  ASSERT_TRUE(who.ok()) << who.error().message;
  EXPECT_EQ(who->result.at("user"), "carol");
  const auto tokens = store_->list_tokens("carol", false);
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->size(), 1u);
  EXPECT_EQ(tokens->front().rp_id, "mail.example.test");

  // Spent: the same code enrolls nothing more.
  const auto again = handle(gateway(), invited_enroll(), code);
  EXPECT_EQ(again.code(), Code::invalid_argument);
  EXPECT_NE(again.error().message.find("used already"), std::string::npos);
  // The new key signs carol in on the web.
  auto session = sign_in("carol");
  ASSERT_TRUE(session.ok()) << session.error().message;
}

TEST_F(InvitedEnrollTest, BadExpiredOrMismatchedCodesBeginNothing) {
  const std::size_t entries = audit_actions().size();
  EXPECT_EQ(
      handle(gateway(), invited_enroll(), SecretBytes::copy_of(std::string("nonsense"))).code(),
      Code::invalid_argument);
  EXPECT_EQ(handle(gateway(), invited_enroll(),
                   SecretBytes::copy_of(std::string("d9tn-8rp3-n70q-kcw9-nvpp")))
                .code(),
            Code::not_found);
  EXPECT_EQ(audit_actions().size(), entries);

  const SecretBytes code = invite("carol");
  ipc::Request for_bob = invited_enroll();
  for_bob.user = "bob";
  EXPECT_EQ(handle(gateway(), for_bob, code).code(), Code::permission_denied);
  ipc::Request yubikey = invited_enroll();
  yubikey.kind = TokenKind::yubikey;
  EXPECT_EQ(handle(gateway(), yubikey, code).code(), Code::invalid_argument);
  now_ += 86400;
  const auto expired = handle(gateway(), invited_enroll(), code);
  EXPECT_EQ(expired.code(), Code::invalid_argument);
  EXPECT_NE(expired.error().message.find("expired"), std::string::npos);
  EXPECT_TRUE(store_->list_tokens("carol", false)->empty());
}

// Phone setup (issue 14): an issue asked with phone_setup leaves its password for touchpass-web
// to take once, with the token of the link the client shows as a QR code.
TEST_F(GatewayTest, APhoneSetupLinkGivesThePasswordToTheGatewayOnce) {
  ipc::Request r = request(ipc::Op::issue_begin, "phone");
  r.user = "alice";
  r.phone_setup = true;
  const auto issued = ceremony(root_peer(), r);
  ASSERT_TRUE(issued.ok()) << issued.error().message;
  const std::string link = issued->result.at("phone_setup").at("link");
  const std::string prefix = std::string(kWebOrigin) + "/setup.html#";
  ASSERT_TRUE(link.starts_with(prefix)) << link;
  EXPECT_EQ(issued->result.at("phone_setup").at("expires"), kStart + 600);
  const auto token = from_base64url(link.substr(prefix.size()));
  ASSERT_TRUE(token.has_value());

  // Only touchpass-web takes it; a local user (even root) cannot.
  EXPECT_EQ(handle(root_peer(), request(ipc::Op::phone_setup), SecretBytes::copy_of(*token)).code(),
            Code::permission_denied);
  ipc::Request take = request(ipc::Op::phone_setup);
  take.remote = "198.51.100.7";
  const auto taken = handle(gateway(), take, SecretBytes::copy_of(*token));
  ASSERT_TRUE(taken.ok()) << taken.error().message;
  EXPECT_EQ(taken->secret.view(), issued->secret.view());
  EXPECT_EQ(taken->result.at("user"), "alice");
  EXPECT_EQ(taken->result.at("name"), "phone");
  EXPECT_EQ(handle(gateway(), take, SecretBytes::copy_of(*token)).code(), Code::not_found);
  const auto actions = audit_actions();
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "phone-setup:ok"), 1);
}

TEST_F(GatewayTest, ARevokedPasswordsPhoneSetupIsGoneAndNoOriginMeansNoSetup) {
  ipc::Request r = request(ipc::Op::show_begin, "");
  r.user = "alice";
  issue_for("alice", "phone");
  r.name = "phone";
  r.phone_setup = true;
  const auto shown = ceremony(root_peer(), r);
  ASSERT_TRUE(shown.ok()) << shown.error().message;
  const std::string link = shown->result.at("phone_setup").at("link");
  const auto token = from_base64url(link.substr(link.find('#') + 1));
  ASSERT_TRUE(token.has_value());
  ipc::Request revoke = request(ipc::Op::revoke, "phone");
  revoke.user = "alice";
  ASSERT_TRUE(handle(root_peer(), revoke).ok());
  EXPECT_EQ(handle(gateway(), request(ipc::Op::phone_setup), SecretBytes::copy_of(*token)).code(),
            Code::not_found);

  config_.web_origin.reset();
  const auto refused = handle(root_peer(), r);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), Code::invalid_argument);
  EXPECT_NE(refused.error().message.find("web_origin"), std::string::npos);
}

}  // namespace
}  // namespace touchpass::daemon
