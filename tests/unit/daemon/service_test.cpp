// The daemon's request handlers (Service) in one process (service_fixture.h): what each handler
// stores, answers and audits, and who may act on whom.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "unit/daemon/service_fixture.h"

namespace touchpass::daemon {
namespace {

TEST_F(ServiceTest, IssueShowAndVerifyAgreeOnThePassword) {
  enroll_for("alice");
  const std::string password = issue_for("alice", "mail");
  ASSERT_EQ(password.size(), 24u);

  ipc::Request show = request(ipc::Op::show_begin, "mail");
  show.user = "alice";
  const auto shown = ceremony(root_peer(), show);
  ASSERT_TRUE(shown.ok()) << shown.error().message;
  EXPECT_EQ(shown->secret.view(), password);

  EXPECT_TRUE(verify("alice", password).ok());
  EXPECT_EQ(verify("alice", password, "smtp").code(), Code::refused);  // not in its scopes
  EXPECT_EQ(verify("bob", password).code(), Code::refused);            // not bob's
  const auto actions = audit_actions();
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "issue:ok"), 1);
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "show:ok"), 1);
}

TEST_F(ServiceTest, AUserMayNotActOnAnotherUsersPasswords) {
  enroll_for("alice");
  const std::string password = issue_for("alice", "mail");
  const Peer mallory = user_peer("mallory", 4242);
  for (ipc::Op op : {ipc::Op::list, ipc::Op::revoke, ipc::Op::show_begin, ipc::Op::issue_begin,
                     ipc::Op::tokens, ipc::Op::log}) {
    ipc::Request r = request(op, "mail");
    r.user = "alice";
    const auto answer = handle(mallory, r);
    ASSERT_FALSE(answer.ok()) << ipc::op_name(op);
    EXPECT_EQ(answer.code(), Code::permission_denied) << ipc::op_name(op);
    EXPECT_NE(answer.error().message.find("touchpass-admin"), std::string::npos);
  }
  // Nothing changed: the password still verifies; the refusals were counted and reach the
  // audit log aggregated.
  EXPECT_TRUE(verify("alice", password).ok());
  const auto actions = audit_actions();
  EXPECT_TRUE(std::any_of(actions.begin(), actions.end(),
                          [](const std::string& a) { return a.rfind("refuse:", 0) == 0; }));
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "issue:ok"), 1);
}

TEST_F(ServiceTest, RevokeRenameAndListChangeWhatTheyName) {
  enroll_for("alice");
  const std::string mail = issue_for("alice", "mail");
  const std::string phone = issue_for("alice", "phone");
  issue_for("alice", "desk");

  ipc::Request rename = request(ipc::Op::rename, "phone");
  rename.user = "alice";
  rename.new_name = "tablet";
  ASSERT_TRUE(handle(root_peer(), rename).ok());
  ipc::Request revoke = request(ipc::Op::revoke, "mail");
  revoke.user = "alice";
  now_ = kStart + 60;
  ASSERT_TRUE(handle(root_peer(), revoke).ok());

  EXPECT_EQ(verify("alice", mail).code(), Code::refused);
  EXPECT_TRUE(verify("alice", phone).ok());  // renaming keeps the password

  ipc::Request list = request(ipc::Op::list);
  list.user = "alice";
  const auto listed = handle(root_peer(), list);
  ASSERT_TRUE(listed.ok());
  std::vector<std::string> names;  // the active ones
  for (const auto& g : listed->result.at("grants")) {
    EXPECT_FALSE(g.contains("revoked"));
    names.push_back(g.at("name").get<std::string>());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"desk", "tablet"}));

  // A second revoke of the same name, and a rename to a taken name, change nothing.
  const auto again = handle(root_peer(), revoke);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.code(), Code::not_found);
  ipc::Request clash = request(ipc::Op::rename, "tablet");
  clash.user = "alice";
  clash.new_name = "desk";
  EXPECT_FALSE(handle(root_peer(), clash).ok());
  EXPECT_TRUE(verify("alice", phone).ok());
}

TEST_F(ServiceTest, IssueRefusesADuplicateNameAndAPastExpiryAndAudits) {
  enroll_for("alice");
  issue_for("alice", "mail");
  ipc::Request again = request(ipc::Op::issue_begin, "mail");
  again.user = "alice";
  const auto duplicate = handle(root_peer(), again);
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.code(), Code::invalid_argument);
  EXPECT_NE(duplicate.error().message.find("already exists"), std::string::npos);

  ipc::Request expired = request(ipc::Op::issue_begin, "old");
  expired.user = "alice";
  expired.expires = kStart - 1;
  const auto past = handle(root_peer(), expired);
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.code(), Code::invalid_argument);

  const auto actions = audit_actions();
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "issue:invalid_argument"), 2);
  ipc::Request list = request(ipc::Op::list);
  list.user = "alice";
  EXPECT_EQ(handle(root_peer(), list)->result.at("grants").size(), 1u);
}

TEST_F(ServiceTest, AnExpiredPasswordIsRefusedByTheClock) {
  enroll_for("alice");
  ipc::Request r = request(ipc::Op::issue_begin, "short");
  r.user = "alice";
  r.expires = kStart + 3600;
  const auto issued = ceremony(root_peer(), r);
  ASSERT_TRUE(issued.ok()) << issued.error().message;
  const std::string password(issued->secret.view());
  EXPECT_TRUE(verify("alice", password).ok());
  now_ = kStart + 3600;
  EXPECT_EQ(verify("alice", password).code(), Code::refused);
}

TEST_F(ServiceTest, IssueWithoutAnEnrolledKeySaysToEnrollFirst) {
  ipc::Request r = request(ipc::Op::issue_begin, "mail");
  r.user = "alice";
  const auto answer = handle(root_peer(), r);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.code(), Code::not_found);
  EXPECT_NE(answer.error().message.find("enroll"), std::string::npos);
}

TEST_F(ServiceTest, AUserHasAtMostAsManyKeysAsAnOfferCanList) {
  enroll_for("alice");  // the virtual token, then stand-ins up to the limit
  const auto add_stand_in = [&](int n) {
    store::TokenRecord t;
    t.user = "alice";
    t.label = "spare " + std::to_string(n);
    t.kind = TokenKind::fido2;
    t.credential = Bytes(32, static_cast<std::uint8_t>(n));
    t.rp_id = config_.rp_id;
    t.algorithm = -7;
    t.public_key = Bytes(64, 0x04);
    t.uv = "pin";
    t.attestation_format = "none";
    t.created = kStart;
    store::AuditEvent e;
    e.time = kStart;
    e.action = "enroll";
    e.user = "alice";
    e.result = "ok";
    ASSERT_TRUE(store_->add_token(t, e).ok());
  };
  for (int n = 1; n < static_cast<int>(ipc::kMaxOfferedCredentials); ++n) add_stand_in(n);
  ipc::Request enroll = request(ipc::Op::enroll_begin);
  enroll.user = "alice";
  const auto refused = handle(root_peer(), enroll);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), Code::invalid_argument);
  EXPECT_NE(refused.error().message.find("revoke one"), std::string::npos);
  // With the most keys, the user can still issue: the offer lists them all.
  EXPECT_EQ(issue_for("alice", "mail").size(), 24u);

  // A ceremony begun with room left is refused at the finish if the room was taken meanwhile.
  ipc::Request revoke = request(ipc::Op::revoke);
  revoke.user = "alice";
  revoke.token = "spare 1";
  ASSERT_TRUE(handle(root_peer(), revoke).ok());
  const auto late = enroll_ceremony(root_peer(), enroll, [&](client::KeyAnswer&) {
    add_stand_in(static_cast<int>(ipc::kMaxOfferedCredentials));
  });
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.code(), Code::invalid_argument) << late.error().message;
  const auto tokens = store_->list_tokens("alice", false);
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(tokens->size(), ipc::kMaxOfferedCredentials);
}

TEST_F(ServiceTest, AUserFailingInALoopGetsItsFailuresCountedNotWrittenOneByOne) {
  const Peer mallory = user_peer("mallory", 4242);
  ipc::Request issue = request(ipc::Op::issue_begin, "mail");
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(handle(mallory, issue).code(), Code::not_found) << i;  // no key enrolled
  }
  recorder_->flush();
  const auto entries = store_->list_audit("mallory", 0);
  ASSERT_TRUE(entries.ok());
  std::size_t itemized = 0;
  std::string summary;
  for (const auto& e : *entries) {
    if (e.event.action != "issue") continue;
    if (e.event.result == "not_found") {
      ++itemized;
    } else {
      summary = e.event.result + ": " + e.event.detail;
    }
  }
  EXPECT_EQ(itemized, 30u);  // AuditBudget's default
  EXPECT_LT(entries->size(), 40u);
  EXPECT_NE(summary.find("170"), std::string::npos) << summary;  // the rest, counted
}

// What a hostile client may send as `finish`: each is refused with a clear error, and nothing is
// stored (the grant does not exist afterwards, and the audit log says why).
class HostileFinishTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    enroll_for("alice");
  }
  ipc::Request begin_issue(const std::string& name = "mail") {
    ipc::Request r = request(ipc::Op::issue_begin, name);
    r.user = "alice";
    return r;
  }
  void expect_nothing_stored(const std::string& name = "mail") {
    EXPECT_EQ(store_->find_grant("alice", name).code(), Code::not_found);
  }
};

TEST_F(ServiceTest, EnrollVerifiesTheAttestationAndStoresNothingWhenItDoesNotHold) {
  ipc::Request r = request(ipc::Op::enroll_begin);
  r.user = "alice";
  // A forged attestation signature, another challenge in the client data, a credential id that
  // is not the one created: each refused, nothing stored.
  const std::vector<std::function<void(client::KeyAnswer&)>> forgeries = {
      [](client::KeyAnswer& a) { a.finish.signature[a.finish.signature.size() / 2] ^= 1; },
      [](client::KeyAnswer& a) {
        auto& json = a.finish.client_data_json;
        json[json.find("\"challenge\":\"") + 13] ^= 1;
      },
      [](client::KeyAnswer& a) { a.finish.credential[0] ^= 0xff; },
      [](client::KeyAnswer& a) { a.finish.authenticator_data[0] ^= 1; },  // rpIdHash
  };
  for (const auto& forge : forgeries) {
    const auto refused = enroll_ceremony(root_peer(), r, forge);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.code(), Code::verification_failed) << refused.error().message;
  }
  ipc::Request tokens = request(ipc::Op::tokens);
  tokens.user = "alice";
  EXPECT_TRUE(handle(root_peer(), tokens)->result.at("tokens").empty());
  // The key itself is fine: the genuine answer enrolls it, with one touch.
  const auto enrolled = enroll_ceremony(root_peer(), r);
  ASSERT_TRUE(enrolled.ok()) << enrolled.error().message;
  const auto events = io_.events();
  EXPECT_EQ(std::count(events.begin(), events.end(), "touch-token"), 5);  // 1 per attempt
  EXPECT_EQ(handle(root_peer(), tokens)->result.at("tokens").size(), 1u);
}

TEST_F(HostileFinishTest, AForgedSignatureIsRefused) {
  const auto answer = ceremony(root_peer(), begin_issue(), [](client::KeyAnswer& a) {
    a.finish.signature[a.finish.signature.size() / 2] ^= 0x01;
  });
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.code(), Code::verification_failed);
  expect_nothing_stored();
}

TEST_F(HostileFinishTest, AFinishedCeremonyCannotBeReplayed) {
  ASSERT_TRUE(ceremony(root_peer(), begin_issue()).ok());
  const auto replay = handle(root_peer(), last_finish_, last_secret_);
  ASSERT_FALSE(replay.ok());
  EXPECT_EQ(replay.code(), Code::not_found);
  EXPECT_NE(replay.error().message.find("start again"), std::string::npos);
}

TEST_F(HostileFinishTest, AnotherProcessCannotFinishTheCeremony) {
  Peer thief = root_peer();
  thief.pid = 99999;
  const auto offered = handle(root_peer(), begin_issue());
  ASSERT_TRUE(offered.ok());
  auto offer = ipc::CeremonyOffer::parse(offered->result);
  ASSERT_TRUE(offer.ok());
  auto answer = client::answer_offer(*offer, *broker_, io_, client::DriverSettings{kTimeout});
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  ipc::Request finish = request(ipc::Op::finish);
  finish.finish = answer->finish;
  const auto stolen = handle(thief, finish, answer->secret);
  ASSERT_FALSE(stolen.ok());
  EXPECT_EQ(stolen.code(), Code::permission_denied);
  expect_nothing_stored();
  // The owner still may finish it.
  EXPECT_TRUE(handle(root_peer(), finish, answer->secret).ok());
}

TEST_F(HostileFinishTest, ClientDataWithAnotherOriginOrTypeIsRefused) {
  for (const char* bad : {"\"origin\":\"https://evil.example\"", "\"type\":\"webauthn.create\""}) {
    const auto answer = ceremony(root_peer(), begin_issue(), [&](client::KeyAnswer& a) {
      // The key signed the real client data; a client that relays other data breaks the
      // signature, and one whose signed data is wrong is refused by the field check. Both fail.
      auto& json = a.finish.client_data_json;
      const std::string field = std::string(bad).substr(0, std::string(bad).find(':') + 1);
      const auto at = json.find(field);
      ASSERT_NE(at, std::string::npos);
      const auto end = json.find(',', at);
      json.replace(at, end - at, bad);
    });
    ASSERT_FALSE(answer.ok());
    EXPECT_EQ(answer.code(), Code::verification_failed);
    expect_nothing_stored();
  }
}

TEST_F(HostileFinishTest, ACredentialTheCeremonyDidNotOfferIsRefused) {
  const auto answer = ceremony(root_peer(), begin_issue(),
                               [](client::KeyAnswer& a) { a.finish.credential[0] ^= 0xff; });
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.code(), Code::verification_failed);
  EXPECT_NE(answer.error().message.find("did not offer"), std::string::npos);
  expect_nothing_stored();
}

TEST_F(HostileFinishTest, AWrongSecretGivesNoShow) {
  ASSERT_TRUE(ceremony(root_peer(), begin_issue()).ok());
  ipc::Request show = request(ipc::Op::show_begin, "mail");
  show.user = "alice";
  const auto shown = ceremony(root_peer(), show, [](client::KeyAnswer& a) {
    a.secret.bytes()[0] ^= 0x01;  // not what the key derived
  });
  ASSERT_FALSE(shown.ok());
  EXPECT_EQ(shown.code(), Code::verification_failed);
  EXPECT_NE(shown.error().message.find("different password"), std::string::npos);
}

TEST_F(HostileFinishTest, AnIssueBoundToAnotherUsersCredentialCannotBeBegunByAnAdmin) {
  // The admin acting for bob, who has no key, is not offered alice's (or the admin's) key.
  ipc::Request r = request(ipc::Op::issue_begin, "mail");
  r.user = "bob";
  const auto offered = handle(root_peer(), r);
  ASSERT_FALSE(offered.ok());
  EXPECT_EQ(offered.code(), Code::not_found);
  EXPECT_NE(offered.error().message.find("bob"), std::string::npos);
}

TEST_F(ServiceTest, IssueScopesComeFromTheConfiguredServicesInAnyCase) {
  enroll_for("alice");
  ipc::Request typo = request(ipc::Op::issue_begin, "mail");
  typo.user = "alice";
  typo.every_service = false;
  typo.scopes = {"imapp"};
  const auto refused = handle(root_peer(), typo);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), Code::invalid_argument);
  EXPECT_NE(refused.error().message.find("Did you mean \"imap\"?"), std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("pop3 (POP3: downloading mail)"), std::string::npos);

  ipc::Request none = request(ipc::Op::issue_begin, "mail");
  none.user = "alice";
  none.every_service = false;
  EXPECT_EQ(handle(root_peer(), none).code(), Code::invalid_argument);
  EXPECT_EQ(store_->list_grants("alice", true)->size(), 0u);
  const auto actions = audit_actions();
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "issue:invalid_argument"), 2);

  ipc::Request upper = request(ipc::Op::issue_begin, "mail");
  upper.user = "alice";
  upper.every_service = false;
  upper.scopes = {"IMAP"};
  const auto issued = ceremony(root_peer(), upper);
  ASSERT_TRUE(issued.ok()) << issued.error().message;
  const auto grant = store_->find_grant("alice", "mail");
  ASSERT_TRUE(grant.ok());
  EXPECT_EQ(grant->scopes, std::vector<std::string>{"imap"});
  const std::string password(issued->secret.view());
  EXPECT_TRUE(verify("alice", password, "IMAP").ok());
  EXPECT_EQ(verify("alice", password, "smtp").code(), Code::refused);
}

TEST_F(ServiceTest, AUsersListShowsTheirLockedSourcesButNotWhoElseFailedThere) {
  // alice and bob fail from the same address (one NAT, say) until it is locked.
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(verify(i % 2 == 0 ? "alice" : "bob", "k7qm-x9fj-4tca-2hwe-p3vn").code(),
              Code::refused);
  }
  const auto names = [](const Result<Outcome>& listed) {
    std::vector<std::string> users;
    EXPECT_TRUE(listed.ok()) << listed.error().message;
    if (!listed.ok()) return users;
    const auto& locked = listed->result.at("throttle").at("locked_sources");
    EXPECT_EQ(locked.size(), 1u);
    for (const auto& source : locked) {
      for (const auto& user : source.at("users")) users.push_back(user);
    }
    return users;
  };
  EXPECT_EQ(names(handle(user_peer("alice", 1001), request(ipc::Op::list))),
            std::vector<std::string>{"alice"});
  ipc::Request everyone = request(ipc::Op::list);
  everyone.all_users = true;
  auto all = names(handle(root_peer(), everyone));
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, (std::vector<std::string>{"alice", "bob"}));
}

TEST_F(ServiceTest, ServicesListsTheConfiguredServicesToAnyone) {
  config_.services = {{"imap", "Mail"}, {"xmpp", "Chat"}};
  const auto listed = handle(user_peer("someone", 4242), request(ipc::Op::services));
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  EXPECT_EQ(listed->result.at("services"),
            (ipc::Json::array({{{"name", "imap"}, {"description", "Mail"}},
                               {{"name", "xmpp"}, {"description", "Chat"}}})));

  enroll_for("alice");
  ipc::Request smtp = request(ipc::Op::issue_begin, "mail");
  smtp.user = "alice";
  smtp.every_service = false;
  smtp.scopes = {"smtp"};
  const auto refused = handle(root_peer(), smtp);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("xmpp (Chat)"), std::string::npos);
}

}  // namespace
}  // namespace touchpass::daemon
