// The daemon's request handlers (Service) in one process: a real SQLite store, a fake clock,
// the token broker over the in-process virtual token reached through the real libfido2, and an
// Interaction that answers the PIN — no socket, no daemon process. What each handler stores,
// answers and audits, and who may act on whom.
#include "daemon/service.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>

#include "client/ceremony_driver.h"
#include "devices/fido2/discovery.h"
#include "devices/hotplug/hotplug.h"
#include "store/integrity.h"
#include "store/sqlite_store.h"
#include "support/fake_discovery.h"
#include "support/virtual_token.h"

namespace touchpass::daemon {
namespace {

using namespace std::chrono_literals;

constexpr store::UnixTime kStart = 1764000000;
constexpr const char* kPin = "4711-pin";

// Answers every need-pin with the PIN it holds and records the events.
class ScriptedInteraction final : public client::Interaction {
 public:
  explicit ScriptedInteraction(std::string pin) : pin_(std::move(pin)) {}
  void send_event(std::string_view event, ipc::Json) override {
    std::lock_guard lock(mu_);
    events_.emplace_back(event);
  }
  Result<SecretBytes> receive_pin(std::chrono::seconds) override {
    return SecretBytes::copy_of(pin_);
  }
  void begin_watch(devices::Token*) override {}
  void end_watch() override {}
  bool cancelled() const override { return false; }
  std::vector<std::string> events() {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  std::string pin_;
  std::mutex mu_;
  std::vector<std::string> events_;
};

Peer root_peer() {
  Peer p;
  p.uid = 0;
  p.gid = 0;
  p.user = "root";
  p.verifier = p.admin = p.token_user = true;
  return p;
}

Peer user_peer(const std::string& name, uid_t uid) {
  Peer p;
  p.uid = uid;
  p.gid = uid;
  p.user = name;
  return p;
}

ipc::Request request(ipc::Op op, const std::string& name = "") {
  ipc::Request r;
  r.op = op;
  r.name = name;
  return r;
}

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    vtoken::Config token_config;
    token_config.initial_pin = kPin;
    auto token = testing::InProcessVirtualToken::start(dir_.path(), token_config);
    ASSERT_TRUE(token.ok()) << token.error().message;
    token_ = std::move(*token);
    discovery_.add(token_->info());

    auto s = store::SqliteStore::open(dir_.path() / "store.db");
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
    auto keys = store::StoreKeys::derive(pepper_.bytes());
    ASSERT_TRUE(keys.ok());
    ASSERT_TRUE(store_->use_keys(std::move(*keys), kStart, true).ok());

    config_.token_timeout = 5s;
    broker_ = std::make_unique<client::TokenBroker>(discovery_, hotplug_, 5s);
    throttle_ =
        std::make_unique<Throttle>(ThrottlePolicy{}, std::vector<store::Throttle>{}, kStart);
    recorder_ = std::make_unique<VerificationRecorder>(*store_, *throttle_, refusals_, 1h,
                                                       [this] { return now_.load(); });
    service_ = std::make_unique<Service>(
        config_, *store_, *store_, *throttle_, refusals_, *recorder_, pepper_.clone(),
        [this] { return now_.load(); }, [](std::chrono::milliseconds) {});
  }
  void TearDown() override {
    service_.reset();
    recorder_.reset();
    store_.reset();
  }

  Result<Outcome> handle(const Peer& peer, const ipc::Request& r,
                         const SecretBytes& secret = SecretBytes()) {
    return service_->handle(peer, r, secret);
  }

  // Begins a ceremony with `begin`, answers the offer with the virtual token through the client
  // library (as the CLI does), and finishes it; `tamper` may change the finish first.
  Result<Outcome> ceremony(const Peer& peer, const ipc::Request& begin,
                           const std::function<void(client::KeyAnswer&)>& tamper = {}) {
    auto offered = handle(peer, begin);
    if (!offered.ok()) return offered.error();
    auto offer = ipc::CeremonyOffer::parse(offered->result);
    if (!offer.ok()) return offer.error();
    auto answer = client::answer_offer(*offer, *broker_, io_, client::DriverSettings{5s});
    if (!answer.ok()) return answer.error();
    if (tamper) tamper(*answer);
    last_finish_ = request(ipc::Op::finish);
    last_finish_.finish = answer->finish;
    last_secret_ = answer->secret.clone();
    return handle(peer, last_finish_, answer->secret);
  }

  // The enroll ceremony, as the CLI runs it.
  Result<Outcome> enroll_ceremony(const Peer& peer, const ipc::Request& begin,
                                  const std::function<void(client::KeyAnswer&)>& tamper = {}) {
    auto offered = handle(peer, begin);
    if (!offered.ok()) return offered.error();
    auto offer = ipc::EnrollOffer::parse(offered->result);
    if (!offer.ok()) return offer.error();
    auto answer = client::answer_enroll(*offer, *broker_, io_, client::DriverSettings{5s});
    if (!answer.ok()) return answer.error();
    if (tamper) tamper(*answer);
    ipc::Request finish = request(ipc::Op::finish);
    finish.finish = answer->finish;
    return handle(peer, finish, answer->secret);
  }

  // Enrolls the virtual token for `user` (acting as root, who may use the token).
  void enroll_for(const std::string& user) {
    ipc::Request r = request(ipc::Op::enroll_begin);
    r.user = user;
    r.label = user + "'s key";
    const auto enrolled = enroll_ceremony(root_peer(), r);
    ASSERT_TRUE(enrolled.ok()) << enrolled.error().message;
  }

  // Issues `name` for `user` and returns the password.
  std::string issue_for(const std::string& user, const std::string& name) {
    ipc::Request r = request(ipc::Op::issue_begin, name);
    r.user = user;
    r.scopes = {"imap"};
    const auto issued = ceremony(root_peer(), r);
    EXPECT_TRUE(issued.ok()) << issued.error().message;
    if (!issued.ok()) return "";
    return std::string(issued->secret.view());
  }

  Status verify(const std::string& user, const std::string& password,
                const std::string& service = "imap") {
    ipc::Request r = request(ipc::Op::verify);
    r.user = user;
    r.service = service;
    r.remote = "192.0.2.7";
    const auto verdict = handle(root_peer(), r, SecretBytes::copy_of(password));
    recorder_->flush();
    return verdict.status();
  }

  std::vector<std::string> audit_actions() {
    const auto entries = store_->list_audit("", 0);
    std::vector<std::string> actions;
    EXPECT_TRUE(entries.ok());
    if (!entries.ok()) return actions;
    for (const auto& e : *entries) {
      actions.push_back(e.event.action + ":" + e.event.result);
    }
    return actions;
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::InProcessVirtualToken> token_;
  testing::FakeDiscovery discovery_{
      [](const devices::TokenInfo& info) { return devices::fido2::open_fido2_token(info); }};
  devices::FakeHotplug hotplug_;
  Config config_;
  SecretBytes pepper_ = SecretBytes::copy_of(std::string(32, '\x5e'));
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<client::TokenBroker> broker_;
  std::unique_ptr<Throttle> throttle_;
  RefusalLog refusals_;
  std::unique_ptr<VerificationRecorder> recorder_;
  std::unique_ptr<Service> service_;
  std::atomic<store::UnixTime> now_{kStart};
  ScriptedInteraction io_{kPin};
  ipc::Request last_finish_;  // the last finish sent, and its secret part
  SecretBytes last_secret_;
};

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

TEST_F(ServiceTest, LogVerifyReverifiesEveryGrantsProofWithTheEnrolledKey) {
  enroll_for("alice");
  issue_for("alice", "mail");
  issue_for("alice", "phone");
  ipc::Request log = request(ipc::Op::log);
  log.user = "alice";
  log.verify_chain = true;
  const auto clean = handle(root_peer(), log);
  ASSERT_TRUE(clean.ok()) << clean.error().message;
  EXPECT_TRUE(clean->result.at("chain_ok").get<bool>());
  EXPECT_EQ(clean->result.at("proofs_checked"), 2);
  EXPECT_EQ(clean->result.at("proofs_failed"), 0);
  EXPECT_TRUE(clean->result.at("proof_errors").empty());

  // A writer of the database swaps the proofs of the two grants (the signatures are real, but
  // over the other grant's challenge).
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() / "store.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE grants SET proof_signature = (SELECT proof_signature FROM grants "
                         "AS o WHERE o.name = 'phone') WHERE name = 'mail'",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  const auto tampered = handle(root_peer(), log);
  ASSERT_TRUE(tampered.ok());
  const auto& errors = tampered->result.at("proof_errors");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(tampered->result.at("proofs_failed"), 1);
  EXPECT_EQ(errors[0].at("name"), "mail");
  EXPECT_NE(errors[0].at("error").get<std::string>().find("signature"), std::string::npos);
}

TEST_F(ServiceTest, IssueWithoutAnEnrolledKeySaysToEnrollFirst) {
  ipc::Request r = request(ipc::Op::issue_begin, "mail");
  r.user = "alice";
  const auto answer = handle(root_peer(), r);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.code(), Code::not_found);
  EXPECT_NE(answer.error().message.find("enroll"), std::string::npos);
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
  auto answer = client::answer_offer(*offer, *broker_, io_, client::DriverSettings{5s});
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

}  // namespace
}  // namespace touchpass::daemon
