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
    auto signed_in = handle(gateway(), finish, key->secret);
    if (!signed_in.ok()) return signed_in.error();
    EXPECT_EQ(signed_in->result.at("user"), user);
    return std::move(signed_in->secret);
  }

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
  begin.scopes = {"imap"};

  // Without the session's token, the finish is refused (and the ceremony is spent).
  auto key = answer(handle(gateway(), begin, *session));
  ASSERT_TRUE(key.ok()) << key.error().message;
  ipc::Request finish = request(ipc::Op::finish);
  finish.finish = key->finish;
  EXPECT_EQ(handle(gateway(), finish, key->secret).code(), Code::not_found);
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
  EXPECT_EQ(handle(gateway(), finish).code(), Code::not_found);

  const auto web = handle(gateway(), signin_begin("alice"));
  ASSERT_TRUE(web.ok()) << web.error().message;
  finish.finish.ceremony = ipc::CeremonyOffer::parse(web->result)->ceremony;
  EXPECT_EQ(handle(root_peer(), finish).code(), Code::not_found);
}

}  // namespace
}  // namespace touchpass::daemon
