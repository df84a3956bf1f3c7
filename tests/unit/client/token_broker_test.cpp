// The token broker with a fake discovery and a fake hot-plug source standing in for udev: a
// waiting request wakes on the event, unusable tokens are never opened, a cancel ends the wait.
#include "client/token_broker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "devices/fido2/discovery.h"
#include "support/fake_discovery.h"
#include "support/virtual_token.h"

namespace touchpass::client {
namespace {

using namespace std::chrono_literals;

// An Interaction that records events; a test can cancel it.
class RecordingInteraction final : public Interaction {
 public:
  void send_event(std::string_view event, ipc::Json fields) override {
    std::lock_guard lock(mu_);
    events_.emplace_back(event);
    fields_.push_back(std::move(fields));
  }
  Result<SecretBytes> receive_pin(std::chrono::seconds) override {
    return Error{Code::cancelled, "no PIN in this test"};
  }
  void begin_watch(devices::Token*) override {}
  void end_watch() override {}
  bool cancelled() const override { return cancelled_; }

  void cancel() { cancelled_ = true; }
  std::vector<std::string> events() {
    std::lock_guard lock(mu_);
    return events_;
  }
  std::vector<ipc::Json> fields() {
    std::lock_guard lock(mu_);
    return fields_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> events_;
  std::vector<ipc::Json> fields_;
  std::atomic<bool> cancelled_{false};
};

class TokenBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto token = testing::InProcessVirtualToken::start(dir_.path());
    ASSERT_TRUE(token.ok()) << token.error().message;
    token_ = std::move(*token);
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::InProcessVirtualToken> token_;
  testing::FakeDiscovery discovery_{
      [](const devices::TokenInfo& info) { return devices::fido2::open_fido2_token(info); }};
  devices::FakeHotplug hotplug_;
  RecordingInteraction io_;
  const TokenBroker::Usable anyone_ = [](const devices::TokenInfo&) { return true; };
};

TEST_F(TokenBrokerTest, AWaitingRequestWakesOnAHotplugEvent) {
  TokenBroker broker(discovery_, hotplug_, 20s);
  std::optional<Result<TokenBroker::Lease>> lease;
  std::thread waiter([&] { lease.emplace(broker.acquire(io_, anyone_)); });
  std::this_thread::sleep_for(300ms);
  const auto plugged = std::chrono::steady_clock::now();
  discovery_.add(token_->info());
  hotplug_.trigger();  // what the udev monitor does when our rules' property shows up
  waiter.join();
  ASSERT_TRUE(lease->ok()) << lease->error().message;
  // "Insert your key", with the seconds left (again if a second passed meanwhile).
  const auto events = io_.events();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(std::count(events.begin(), events.end(), "insert-token"),
            static_cast<long>(events.size()));
  EXPECT_LT(std::chrono::steady_clock::now() - plugged, 3s);  // the safety-net rescan is 5 s
}

TEST_F(TokenBrokerTest, TheWaitForAKeyCountsDownTheSecondsLeft) {
  TokenBroker broker(discovery_, hotplug_, 3s);
  const auto lease = broker.acquire(io_, anyone_);
  ASSERT_FALSE(lease.ok());
  EXPECT_EQ(lease.error().code, Code::no_token);
  // One event per whole second left, each second told once, counting down to the end.
  const auto fields = io_.fields();
  ASSERT_FALSE(fields.empty());
  std::int64_t previous = 4;
  for (const auto& f : fields) {
    EXPECT_EQ(f.value("timeout", -1), 3);
    const std::int64_t left = f.value("remaining", std::int64_t{-1});
    EXPECT_GE(left, 0);
    EXPECT_LT(left, previous) << "the seconds left must only go down";
    previous = left;
  }
  EXPECT_LT(previous, 3) << "the count went down while waiting";
}

TEST_F(TokenBrokerTest, ATokenUsableOnlyAMomentAfterItsEventIsStillFoundPromptly) {
  // A socket appears at bind(), before listen(): the event comes before the token can be
  // opened, and nothing more is announced when it can.
  TokenBroker broker(discovery_, hotplug_, 20s);
  std::optional<Result<TokenBroker::Lease>> lease;
  std::thread waiter([&] { lease.emplace(broker.acquire(io_, anyone_)); });
  std::this_thread::sleep_for(200ms);
  hotplug_.trigger();
  std::this_thread::sleep_for(300ms);
  const auto usable = std::chrono::steady_clock::now();
  discovery_.add(token_->info());  // no event this time
  waiter.join();
  ASSERT_TRUE(lease->ok()) << lease->error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - usable, 3s);  // not the 5 s safety-net rescan
}

TEST_F(TokenBrokerTest, ATokenTheUserMayNotUseIsNeverOpened) {
  discovery_.add(token_->info());
  TokenBroker broker(discovery_, hotplug_, 1s);
  auto lease = broker.acquire(io_, [](const devices::TokenInfo&) { return false; });
  ASSERT_FALSE(lease.ok());
  EXPECT_EQ(lease.code(), Code::permission_denied);
  EXPECT_EQ(discovery_.open_calls(), 0);
}

TEST_F(TokenBrokerTest, ALeasedTokenIsNotHandedOutTwice) {
  discovery_.add(token_->info());
  TokenBroker broker(discovery_, hotplug_, 1s);
  auto first = broker.acquire(io_, anyone_);
  ASSERT_TRUE(first.ok());
  auto second = broker.acquire(io_, anyone_);
  EXPECT_EQ(second.code(), Code::no_token);
}

TEST_F(TokenBrokerTest, ACancelEndsTheWait) {
  TokenBroker broker(discovery_, hotplug_, 20s);
  std::optional<Result<TokenBroker::Lease>> lease;
  std::thread waiter([&] { lease.emplace(broker.acquire(io_, anyone_)); });
  std::this_thread::sleep_for(200ms);
  io_.cancel();
  waiter.join();
  EXPECT_EQ(lease->code(), Code::cancelled);
}

}  // namespace
}  // namespace touchpass::client
