// The fixture of the tests of the daemon's request handlers (Service) in one process: a real
// SQLite store, a fake clock, the token broker over the in-process virtual token reached through
// the real libfido2, and an Interaction that answers the PIN — no socket, no daemon process.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "client/ceremony_driver.h"
#include "daemon/service.h"
#include "devices/fido2/discovery.h"
#include "devices/hotplug/hotplug.h"
#include "store/integrity.h"
#include "store/sqlite_store.h"
#include "support/fake_discovery.h"
#include "support/virtual_token.h"

namespace touchpass::daemon {

inline constexpr store::UnixTime kStart = 1764000000;
inline constexpr const char* kPin = "4711-pin";
inline constexpr std::chrono::seconds kTimeout{5};

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

inline Peer root_peer() {
  Peer p;
  p.uid = 0;
  p.gid = 0;
  p.user = "root";
  p.verifier = p.admin = p.token_user = true;
  return p;
}

inline Peer user_peer(const std::string& name, uid_t uid) {
  Peer p;
  p.uid = uid;
  p.gid = uid;
  p.user = name;
  return p;
}

// A request of `op` about `name`. An issue asks for every service (as `--scope all`) unless the
// test names scopes instead (then it clears every_service).
inline ipc::Request request(ipc::Op op, const std::string& name = "") {
  ipc::Request r;
  r.op = op;
  r.name = name;
  r.every_service = op == ipc::Op::issue_begin;
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

    auto s = store::open_sqlite_store(dir_.path() / "store.db");
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
    auto keys = store::StoreKeys::derive(pepper_.bytes());
    ASSERT_TRUE(keys.ok());
    ASSERT_TRUE(store_->use_keys(std::move(*keys), kStart, true).ok());

    config_.token_timeout = kTimeout;
    broker_ = std::make_unique<client::TokenBroker>(discovery_, hotplug_, kTimeout);
    throttle_ =
        std::make_unique<Throttle>(ThrottlePolicy{}, std::vector<store::Throttle>{}, kStart);
    recorder_ = std::make_unique<VerificationRecorder>(
        *store_, *throttle_, refusals_, std::chrono::hours(1), [this] { return now_.load(); });
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
    auto answer = client::answer_offer(*offer, *broker_, io_, client::DriverSettings{kTimeout});
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
    auto answer = client::answer_enroll(*offer, *broker_, io_, client::DriverSettings{kTimeout});
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
    r.every_service = false;
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
  std::unique_ptr<store::SqlStore> store_;
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

}  // namespace touchpass::daemon
