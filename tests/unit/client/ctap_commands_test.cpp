// What the client library sends a key in each ceremony, counted on the virtual token (reached
// through the real libfido2): enroll takes one touch, issue and show are at the CTAP minimum
// (after the open: key agreement, PIN token, assertion; no repeated getInfo, no getRetries), and
// "Touch your security key" is said only once the key has accepted the PIN.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <mutex>

#include "client/ceremony_driver.h"
#include "client/token_broker.h"
#include "core/authenticator_data.h"
#include "devices/fido2/discovery.h"
#include "support/fake_discovery.h"
#include "support/virtual_token.h"

namespace touchpass::client {
namespace {

using namespace std::chrono_literals;
using Trace = std::vector<std::string>;

constexpr const char* kPin = "1234";

// Answers PIN prompts from a queue and records each event, with what the key had been sent by
// the time of a "touch-token" prompt.
class ScriptedInteraction final : public Interaction {
 public:
  explicit ScriptedInteraction(vtoken::Authenticator& key) : key_(key) {}

  void send_event(std::string_view event, ipc::Json fields) override {
    std::lock_guard lock(mu_);
    if (event == "touch-token") trace_at_touch_.push_back(key_.take_command_trace());
    events_.push_back(std::string(event) + (fields.contains("retries")
                                                ? " " + fields["retries"].dump()
                                                : std::string()));
  }
  Result<SecretBytes> receive_pin(std::chrono::seconds) override {
    std::lock_guard lock(mu_);
    if (pins_.empty()) return Error{Code::cancelled, "no more PINs in this test"};
    auto pin = SecretBytes::copy_of(pins_.front());
    pins_.pop_front();
    return pin;
  }
  void begin_watch(devices::Token*) override {}
  void end_watch() override {}
  bool cancelled() const override { return false; }

  void give_pins(std::initializer_list<std::string> pins) { pins_.assign(pins); }
  std::vector<std::string> events() const { return events_; }
  // For each touch prompt, the commands the key received since the previous look.
  std::vector<Trace> trace_at_touch() const { return trace_at_touch_; }

 private:
  vtoken::Authenticator& key_;
  std::mutex mu_;
  std::deque<std::string> pins_;
  std::vector<std::string> events_;
  std::vector<Trace> trace_at_touch_;
};

class CtapCommandsTest : public ::testing::Test {
 protected:
  // Starts the key: with a PIN, or none.
  void start(bool with_pin, vtoken::Config config = {}) {
    if (with_pin) config.initial_pin = kPin;
    auto token = testing::InProcessVirtualToken::start(dir_.path(), config);
    ASSERT_TRUE(token.ok()) << token.error().message;
    token_ = std::move(*token);
    discovery_.add(token_->info());
    io_ = std::make_unique<ScriptedInteraction>(token_->authenticator());
  }

  Trace trace() { return token_->authenticator().take_command_trace(); }

  // Enrolls a credential as touchpassd would offer it; fills credential_.
  Result<KeyAnswer> enroll(bool user_verification) {
    ipc::EnrollOffer offer;
    offer.ceremony = Bytes(ipc::kCeremonyIdBytes, 1);
    offer.expires_in = 60;
    offer.rp_id = "touchpass";
    offer.rp_name = "touchpass";
    offer.user_id = Bytes(16, 7);
    offer.user_name = "alice";
    offer.origin = "touchpass";
    offer.challenge = Bytes(32, 5);
    offer.user_verification = user_verification;
    auto answer = answer_enroll(offer, broker_, *io_, DriverSettings{5s});
    if (!answer.ok()) return answer;
    auto data = parse_authenticator_data(answer->finish.authenticator_data);
    if (!data.ok()) return data.error();
    auto key = parse_cose_public_key(data->attested->cose_key);
    if (!key.ok()) return key.error();
    credential_.token = "desk key";
    credential_.credential = answer->finish.credential;
    credential_.rp_id = offer.rp_id;
    credential_.user_verification = user_verification;
    credential_.public_key = key->raw();
    credential_.sign_count = data->sign_count;
    credential_.challenge = Bytes(32, 3);
    return answer;
  }

  // An issue (or show) of the enrolled credential, answered by the key.
  Result<KeyAnswer> issue() {
    ipc::CeremonyOffer offer;
    offer.ceremony = Bytes(ipc::kCeremonyIdBytes, 2);
    offer.expires_in = 60;
    offer.origin = "touchpass";
    offer.salt = Bytes(32, 2);
    offer.credentials.push_back(credential_);
    auto answer = answer_offer(offer, broker_, *io_, DriverSettings{5s});
    if (answer.ok()) credential_.sign_count += 1;
    return answer;
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::InProcessVirtualToken> token_;
  testing::FakeDiscovery discovery_{
      [](const devices::TokenInfo& info) { return devices::fido2::open_fido2_token(info); }};
  devices::FakeHotplug hotplug_;
  TokenBroker broker_{discovery_, hotplug_, 5s};
  std::unique_ptr<ScriptedInteraction> io_;
  ipc::OfferedCredential credential_;
};

long touches(const Trace& trace) {
  return std::count(trace.begin(), trace.end(), "touch");
}

// libfido2 opens a key with CTAPHID INIT (not a CTAP command) and one getInfo.
const Trace kOpen = {"getInfo"};

Trace after_open(Trace tail) {
  Trace out = kOpen;
  out.insert(out.end(), tail.begin(), tail.end());
  return out;
}

TEST_F(CtapCommandsTest, EnrollWithThePinTakesOneTouchAndReadsGetInfoOnce) {
  start(true);
  io_->give_pins({kPin});
  auto enrolled = enroll(true);
  ASSERT_TRUE(enrolled.ok()) << enrolled.error().message;
  const Trace all = trace();
  // The prompt came when makeCredential was sent, after the PIN token: the key's record up to
  // the prompt, then after it.
  ASSERT_EQ(io_->trace_at_touch().size(), 1u);
  EXPECT_EQ(io_->trace_at_touch()[0],
            after_open({"getInfo", "clientPin.getKeyAgreement", "clientPin.getPinUvAuthToken"}));
  // makeCredential with its one touch, then the silent credProtect probe (no touch).
  EXPECT_EQ(all, (Trace{"makeCredential", "touch", "getAssertion"}));
  EXPECT_EQ(io_->events(), (std::vector<std::string>{"need-pin", "touch-token"}));
}

TEST_F(CtapCommandsTest, IssueWithThePinIsKeyAgreementPinTokenAssertion) {
  start(true);
  io_->give_pins({kPin, kPin});
  ASSERT_TRUE(enroll(true).ok());
  (void)trace();
  auto issued = issue();
  ASSERT_TRUE(issued.ok()) << issued.error().message;
  ASSERT_EQ(io_->trace_at_touch().size(), 2u);
  EXPECT_EQ(io_->trace_at_touch()[1],
            after_open({"clientPin.getKeyAgreement", "clientPin.getPinUvAuthToken"}));
  EXPECT_EQ(trace(), (Trace{"getAssertion", "touch"}));
  EXPECT_EQ(issued->secret.size(), 32u);
}

TEST_F(CtapCommandsTest, CtapTwoZeroKeyUsesThePinTokenOfItsVersion) {
  vtoken::Config config;
  config.ctap21 = false;
  start(true, config);
  io_->give_pins({kPin, kPin});
  ASSERT_TRUE(enroll(true).ok());
  (void)trace();
  ASSERT_TRUE(issue().ok());
  ASSERT_EQ(io_->trace_at_touch().size(), 2u);
  EXPECT_EQ(io_->trace_at_touch()[1],
            after_open({"clientPin.getKeyAgreement", "clientPin.getPinToken"}));
  EXPECT_EQ(trace(), (Trace{"getAssertion", "touch"}));
}

TEST_F(CtapCommandsTest, TouchOnlyIssueNeedsNoPinCommands) {
  start(false);
  ASSERT_TRUE(enroll(false).ok());
  const Trace enrolled = io_->trace_at_touch().at(0);
  EXPECT_EQ(enrolled, after_open({"getInfo"}));
  (void)trace();
  auto issued = issue();
  ASSERT_TRUE(issued.ok()) << issued.error().message;
  // hmac-secret needs the shared secret of a key agreement, and nothing else.
  EXPECT_EQ(io_->trace_at_touch().at(1), after_open({"clientPin.getKeyAgreement"}));
  EXPECT_EQ(trace(), (Trace{"getAssertion", "touch"}));
  EXPECT_EQ(io_->events(), (std::vector<std::string>{"touch-token", "touch-token"}));
}

TEST_F(CtapCommandsTest, WrongPinIsRejectedBeforeAnyTouchPromptAndTheTriesLeftAreTold) {
  start(true);
  io_->give_pins({kPin});
  ASSERT_TRUE(enroll(true).ok());
  (void)trace();
  io_->give_pins({"9999", kPin});
  auto issued = issue();
  ASSERT_TRUE(issued.ok()) << issued.error().message;
  // No tries asked before the first PIN; the key's count after the wrong one; one touch prompt,
  // and only when the right PIN had been taken.
  EXPECT_EQ(io_->events(), (std::vector<std::string>{"need-pin", "touch-token", "need-pin",
                                                     "progress", "need-pin 7", "touch-token"}));
  const Trace before_touch = io_->trace_at_touch().at(1);
  EXPECT_EQ(std::count(before_touch.begin(), before_touch.end(), "getAssertion"), 0);
  EXPECT_EQ(before_touch.back(), "clientPin.getPinUvAuthToken");
  EXPECT_EQ(touches(before_touch) + touches(trace()), 1);
}

TEST_F(CtapCommandsTest, KeyWithoutPinIsNotAskedForTheCredentialOfAKeyWithOne) {
  start(true);
  io_->give_pins({kPin});
  ASSERT_TRUE(enroll(true).ok());
  // Another key, without a PIN, is the only one present now.
  token_->stop();
  testing::TempDir other_dir;
  auto other = testing::InProcessVirtualToken::start(other_dir.path(), {}, {}, "other");
  ASSERT_TRUE(other.ok()) << other.error().message;
  discovery_.remove(token_->info().path);
  discovery_.add((*other)->info());
  auto issued = issue();
  ASSERT_FALSE(issued.ok());
  EXPECT_EQ(issued.error().code, Code::no_credentials) << issued.error().message;
  EXPECT_NE(issued.error().message.find("does not hold"), std::string::npos);
  EXPECT_EQ((*other)->authenticator().take_command_trace(), kOpen);
}

}  // namespace
}  // namespace touchpass::client
