// The libykpers backend (YubiKeyDiscovery, YubiKeyToken, error translation), driven through the
// REAL libykpers-1 against the YubiKey emulated at the libusb-1.0 boundary, which is linked into
// this program (its libusb_* definitions take precedence over libusb-1.0's). Independent
// checks: OpenSSL's HMAC-SHA1 with the key the emulator holds, libykpers' own
// yk_challenge_response (with its own CRC check), and the normative derivation vector.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <openssl/rand.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/derivation.h"
#include "devices/yubikey/discovery.h"
#include "devices/yubikey/emulator/ykemu.h"
#include "devices/yubikey/libykpers.h"
#include "devices/yubikey/yubikey_token.h"
#include "ykemu_test_support.h"

namespace touchpass::devices::yubikey {
namespace {

using namespace std::chrono_literals;
using testing::hmac_sha1;
using testing::read_state;
using testing::write_state;
using ykemu::EmulatorState;
using ykemu::SlotState;
using ykemu::TouchMode;
using Clock = std::chrono::steady_clock;

constexpr std::uint32_t kSerial = 12345678;  // 0x00bc614e, the serial of the vector's grant

std::array<std::uint8_t, 20> random_key() {
  std::array<std::uint8_t, 20> key{};
  EXPECT_EQ(RAND_bytes(key.data(), static_cast<int>(key.size())), 1);
  return key;
}

std::array<std::uint8_t, 64> random_challenge() {
  std::array<std::uint8_t, 64> challenge{};
  EXPECT_EQ(RAND_bytes(challenge.data(), static_cast<int>(challenge.size())), 1);
  return challenge;
}

SlotState hmac_slot(const std::array<std::uint8_t, 20>& key, bool require_touch = false) {
  SlotState slot;
  slot.key = key;
  slot.require_touch = require_touch;
  return slot;
}

class YubiKeyBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EmulatorState state;
    state.serial = kSerial;
    state.programming_sequence = 0;
    write_state(state);
  }

  void set_state(const EmulatorState& state) { write_state(state); }

  std::unique_ptr<Token> open_only_key() {
    YubiKeyDiscovery discovery;
    auto found = discovery.enumerate();
    EXPECT_TRUE(found.ok()) << (found.ok() ? "" : found.error().message);
    if (!found.ok() || found->size() != 1) {
      ADD_FAILURE() << "expected exactly one YubiKey";
      return nullptr;
    }
    auto token = discovery.open(found->front());
    EXPECT_TRUE(token.ok()) << (token.ok() ? "" : token.error().message);
    return token.ok() ? std::move(token).value() : nullptr;
  }
};

// --- The emulator really is what libykpers talks to.

TEST_F(YubiKeyBackendTest, LibykpersIsServedByTheEmulatorNotByLibusb) {
  const auto calls_before = touchpass_ykemu_call_count();
  const auto transfers_before = touchpass_ykemu_transfer_count();
  YubiKeyDiscovery discovery;
  auto found = discovery.enumerate();
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(found->size(), 1U);
  EXPECT_GT(touchpass_ykemu_call_count(), calls_before);
  EXPECT_GT(touchpass_ykemu_transfer_count(), transfers_before);

  // The definition every library of the process binds to is this program's own.
  void* bound = dlsym(RTLD_DEFAULT, "libusb_control_transfer");
  ASSERT_NE(bound, nullptr);
  Dl_info where{};
  ASSERT_NE(dladdr(bound, &where), 0);
  Dl_info self{};
  ASSERT_NE(dladdr(reinterpret_cast<void*>(&touchpass_ykemu_call_count), &self), 0);
  EXPECT_STREQ(where.dli_fname, self.dli_fname);
  // libusb-1.0 is loaded (libykpers depends on it) but its functions are not the ones bound.
  if (void* libusb = dlopen("libusb-1.0.so.0", RTLD_NOW | RTLD_NOLOAD)) {
    EXPECT_NE(dlsym(libusb, "libusb_control_transfer"), bound);
    dlclose(libusb);
  }
}

// --- Discovery and status.

TEST_F(YubiKeyBackendTest, DiscoveryListsSerialFirmwareAndSlots) {
  EmulatorState state;
  state.serial = kSerial;
  state.slots[1] = hmac_slot(random_key());
  state.programming_sequence = 3;
  set_state(state);

  YubiKeyDiscovery discovery;
  auto found = discovery.enumerate();
  ASSERT_TRUE(found.ok()) << found.error().message;
  ASSERT_EQ(found->size(), 1U);
  const TokenInfo& info = found->front();
  EXPECT_EQ(info.transport, Transport::yubikey_otp);
  EXPECT_EQ(info.path, "yubikey-otp:12345678");
  EXPECT_EQ(info.serial, kSerial);
  EXPECT_EQ(info.firmware, (FirmwareVersion{5, 4, 3}));
  EXPECT_EQ(info.firmware.to_string(), "5.4.3");
  EXPECT_EQ(info.vendor_id, 0x1050);
  EXPECT_EQ(info.product_id, 0x0407);
  EXPECT_FALSE(info.is_virtual());

  auto token = discovery.open(info);
  ASSERT_TRUE(token.ok()) << token.error().message;
  auto status = (*token)->otp()->otp_status();
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(status->serial, kSerial);
  EXPECT_EQ(status->firmware, (FirmwareVersion{5, 4, 3}));
  EXPECT_EQ(status->programming_sequence, 3);
  EXPECT_FALSE(status->slot(OtpSlot::one).programmed);
  EXPECT_TRUE(status->slot(OtpSlot::two).programmed);
  EXPECT_FALSE(status->slot(OtpSlot::two).requires_touch.has_value());
}

TEST_F(YubiKeyBackendTest, AbsentKeyIsNotListedAndCannotBeOpened) {
  EmulatorState state;
  state.present = false;
  set_state(state);
  YubiKeyDiscovery discovery;
  auto found = discovery.enumerate();
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_TRUE(found->empty());

  TokenInfo info;
  info.transport = Transport::yubikey_otp;
  info.path = "yubikey-otp:12345678";
  auto token = discovery.open(info);
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.code(), Code::no_token);
}

TEST_F(YubiKeyBackendTest, PermissionProblemNamesTheUdevRules) {
  EmulatorState state;
  state.deny_access = true;
  set_state(state);
  YubiKeyDiscovery discovery;
  auto found = discovery.enumerate();
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.code(), Code::io_error);
  EXPECT_NE(found.error().message.find("udev"), std::string::npos) << found.error().message;
}

// --- Challenge-response.

TEST_F(YubiKeyBackendTest, ResponsesEqualOpenSslHmacSha1WithTheSlotKey) {
  const auto key1 = random_key();
  const auto key2 = random_key();
  EmulatorState state;
  state.serial = kSerial;
  state.slots[0] = hmac_slot(key1);
  state.slots[1] = hmac_slot(key2);
  state.programming_sequence = 2;
  set_state(state);
  auto token = open_only_key();
  ASSERT_TRUE(token);

  for (int round = 0; round < 4; ++round) {
    const auto challenge = random_challenge();
    for (const OtpSlot slot : {OtpSlot::one, OtpSlot::two}) {
      bool prompted = false;
      auto response =
          token->otp()->challenge_response(slot, challenge, 5s, [&prompted] { prompted = true; });
      ASSERT_TRUE(response.ok()) << response.error().message;
      const auto expected = hmac_sha1(slot == OtpSlot::one ? key1 : key2, challenge);
      EXPECT_TRUE(response->equals(expected));
      EXPECT_FALSE(prompted) << "a slot without CHAL_BTN_TRIG must not ask for a touch";
    }
  }
}

TEST_F(YubiKeyBackendTest, LibykpersOwnChallengeResponseAgreesWithTheBackend) {
  // yk_challenge_response reads the response and checks its CRC itself: an independent check of
  // the emulator's response framing, and so of the backend's own reader.
  const auto key = random_key();
  EmulatorState state;
  state.serial = kSerial;
  state.slots[1] = hmac_slot(key);
  state.programming_sequence = 1;
  set_state(state);
  const auto challenge = random_challenge();

  std::array<unsigned char, 64> raw{};
  {
    auto lock = lock_libykpers();
    ASSERT_TRUE(lock.ok());
    KeyPtr yk(yk_open_key(0));
    ASSERT_TRUE(yk) << yk_strerror(yk_errno);
    ASSERT_EQ(yk_challenge_response(yk.get(), SLOT_CHAL_HMAC2, 0, 64, challenge.data(),
                                    static_cast<unsigned int>(raw.size()), raw.data()),
              1)
        << yk_strerror(yk_errno);
  }
  const auto expected = hmac_sha1(key, challenge);
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), raw.begin()));

  auto token = open_only_key();
  ASSERT_TRUE(token);
  auto response = token->otp()->challenge_response(OtpSlot::two, challenge, 5s, nullptr);
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_TRUE(response->equals(std::span<const std::uint8_t>(raw.data(), 20)));
}

TEST_F(YubiKeyBackendTest, DerivationVectorForTheYubiKeyKind) {
  std::ifstream in(TOUCHPASS_DERIVATION_VECTORS);
  ASSERT_TRUE(in) << "cannot open " << TOUCHPASS_DERIVATION_VECTORS;
  const auto vectors = nlohmann::json::parse(in);
  const nlohmann::json* vector = nullptr;
  for (const auto& v : vectors.at("derivation_v1"))
    if (v.at("kind") == "yubikey") vector = &v;
  ASSERT_NE(vector, nullptr);
  const auto hex = [&](const char* name) {
    auto bytes = from_hex(vector->at(name).get<std::string>());
    EXPECT_TRUE(bytes.has_value()) << name;
    return bytes.value_or(Bytes{});
  };
  const auto grant_id =
      GrantId::from_bytes(*from_hex(vector->at("grant").at("grant_id").get<std::string>()));
  ASSERT_TRUE(grant_id.ok());
  const auto credential =
      parse_yubikey_credential(*from_hex(vector->at("grant").at("credential").get<std::string>()));
  ASSERT_TRUE(credential.ok());
  ASSERT_EQ(credential->serial, kSerial);
  ASSERT_EQ(credential->slot, OtpSlot::two);

  EmulatorState state;
  state.serial = credential->serial;
  SlotState slot;
  const Bytes key = hex("hmac_key");
  ASSERT_EQ(key.size(), slot.key.size());
  std::copy(key.begin(), key.end(), slot.key.begin());
  state.slots[1] = slot;
  state.programming_sequence = 1;
  set_state(state);

  auto token = open_only_key();
  ASSERT_TRUE(token);
  EXPECT_EQ(token->info().serial, credential->serial);
  auto challenge = yubikey_challenge(kGrantVersionV1, *grant_id);
  ASSERT_TRUE(challenge.ok());
  EXPECT_EQ(Bytes(challenge->begin(), challenge->end()), hex("challenge"));
  auto s = token->otp()->challenge_response(credential->slot, *challenge, 5s, nullptr);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_TRUE(s->equals(hex("S")));
  auto password = derive_app_password(kGrantVersionV1, s->bytes(), *grant_id);
  ASSERT_TRUE(password.ok());
  EXPECT_EQ(password->grouped(), vector->at("password").get<std::string>());
}

TEST_F(YubiKeyBackendTest, UnprogrammedSlotGivesAnActionableError) {
  auto token = open_only_key();
  ASSERT_TRUE(token);
  auto response = token->otp()->challenge_response(OtpSlot::two, random_challenge(), 2s, nullptr);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.code(), Code::not_found);
  EXPECT_EQ(response.error().message,
            "Slot 2 of this YubiKey is not programmed for challenge-response; program it with "
            "`touchpass enroll --kind yubikey --program`");
}

TEST_F(YubiKeyBackendTest, SlotHoldingAnotherConfigurationIsCapabilityMissing) {
  EmulatorState state;
  state.serial = kSerial;
  SlotState otp = hmac_slot(random_key());
  otp.mode = SlotState::Mode::other;
  state.slots[0] = otp;
  state.programming_sequence = 1;
  set_state(state);
  auto token = open_only_key();
  ASSERT_TRUE(token);
  const auto start = Clock::now();
  auto response = token->otp()->challenge_response(OtpSlot::one, random_challenge(), 10s, nullptr);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.code(), Code::capability_missing);
  EXPECT_LT(Clock::now() - start, YubiKeyToken::kAnswerBudget + 2s);
}

// --- Programming.

TEST_F(YubiKeyBackendTest, ProgrammedSlotWithTouchAnswersAfterTouchAndKeepsItsKeyInside) {
  EmulatorState initial;
  initial.serial = kSerial;
  initial.touch_delay_ms = 300;
  set_state(initial);
  auto token = open_only_key();
  ASSERT_TRUE(token);

  ASSERT_TRUE(token->otp()
                  ->program_challenge_response(OtpSlot::one, /*require_touch=*/true,
                                               /*force=*/false)
                  .ok());
  // The key exists only in the emulated token's state (persisted, as a real key keeps it).
  const EmulatorState after = read_state();
  ASSERT_TRUE(after.slots[0].has_value());
  EXPECT_EQ(after.slots[0]->mode, SlotState::Mode::hmac);
  EXPECT_TRUE(after.slots[0]->require_touch);
  EXPECT_FALSE(after.slots[0]->hmac_lt64);
  EXPECT_NE(after.slots[0]->key, (std::array<std::uint8_t, 20>{}));
  EXPECT_NE(after.programming_sequence, initial.programming_sequence);

  auto status = token->otp()->otp_status();
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_TRUE(status->slot(OtpSlot::one).programmed);
  EXPECT_EQ(status->slot(OtpSlot::one).requires_touch, std::optional<bool>(true));
  EXPECT_EQ(status->serial, kSerial) << "programming must keep the serial visible";

  const auto challenge = random_challenge();
  int prompts = 0;
  auto response =
      token->otp()->challenge_response(OtpSlot::one, challenge, 10s, [&] { ++prompts; });
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(prompts, 1);
  EXPECT_TRUE(response->equals(hmac_sha1(after.slots[0]->key, challenge)));

  // A second token object (e.g. after a restart) sees the same programmed key.
  auto again = open_only_key();
  ASSERT_TRUE(again);
  auto response2 = again->otp()->challenge_response(OtpSlot::one, challenge, 10s, nullptr);
  ASSERT_TRUE(response2.ok()) << response2.error().message;
  EXPECT_TRUE(response2->equals(response->bytes()));
}

TEST_F(YubiKeyBackendTest, OverwriteIsRefusedWithoutForce) {
  const auto old_key = random_key();
  EmulatorState state;
  state.serial = kSerial;
  state.slots[1] = hmac_slot(old_key);
  state.programming_sequence = 1;
  set_state(state);
  auto token = open_only_key();
  ASSERT_TRUE(token);

  Status refused = token->otp()->program_challenge_response(OtpSlot::two, false, /*force=*/false);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), Code::invalid_argument);
  EXPECT_NE(refused.message().find("--force"), std::string_view::npos);
  EXPECT_EQ(read_state().slots[1]->key, old_key);

  ASSERT_TRUE(token->otp()->program_challenge_response(OtpSlot::two, false, /*force=*/true).ok());
  const EmulatorState after = read_state();
  ASSERT_TRUE(after.slots[1].has_value());
  EXPECT_NE(after.slots[1]->key, old_key);
  EXPECT_FALSE(after.slots[1]->require_touch);
  EXPECT_EQ(after.programming_sequence, 2);
}

TEST_F(YubiKeyBackendTest, ProgrammingThatTheKeyIgnoresIsAnError) {
  // A slot protected by an access code: the key leaves it (and its sequence) unchanged.
  const auto old_key = random_key();
  EmulatorState state;
  state.serial = kSerial;
  SlotState locked = hmac_slot(old_key);
  locked.access_code = {1, 2, 3, 4, 5, 6};
  state.slots[0] = locked;
  state.programming_sequence = 7;
  set_state(state);
  auto token = open_only_key();
  ASSERT_TRUE(token);
  Status result = token->otp()->program_challenge_response(OtpSlot::one, true, /*force=*/true);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.code(), Code::token_error);
  EXPECT_EQ(read_state().slots[0]->key, old_key);
}

// --- Touch, removal, corruption, cancellation: clear errors, no crash, no hang.

TEST_F(YubiKeyBackendTest, TouchNotGivenIsPresenceTimeoutWithinTheTimeout) {
  EmulatorState state;
  state.serial = kSerial;
  state.slots[1] = hmac_slot(random_key(), /*require_touch=*/true);
  state.programming_sequence = 1;
  state.touch = TouchMode::never;
  set_state(state);
  auto token = open_only_key();
  ASSERT_TRUE(token);

  int prompts = 0;
  const auto start = Clock::now();
  auto response =
      token->otp()->challenge_response(OtpSlot::two, random_challenge(), 700ms, [&] { ++prompts; });
  const auto elapsed = Clock::now() - start;
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.code(), Code::presence_timeout);
  EXPECT_EQ(prompts, 1);
  EXPECT_GE(elapsed, 700ms);
  EXPECT_LT(elapsed, 700ms + 3s);

  // The abandoned request was reset: the key answers the next request normally.
  auto status = token->otp()->otp_status();
  ASSERT_TRUE(status.ok()) << status.error().message;
}

TEST_F(YubiKeyBackendTest, KeyGivingUpOnTheTouchIsPresenceTimeout) {
  EmulatorState state;
  state.serial = kSerial;
  state.slots[1] = hmac_slot(random_key(), /*require_touch=*/true);
  state.programming_sequence = 1;
  state.touch = TouchMode::never;
  state.touch_timeout_s = 1;
  set_state(state);
  auto token = open_only_key();
  ASSERT_TRUE(token);
  const auto start = Clock::now();
  auto response = token->otp()->challenge_response(OtpSlot::two, random_challenge(), 20s, nullptr);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.code(), Code::presence_timeout);
  EXPECT_LT(Clock::now() - start, 5s);
}

TEST_F(YubiKeyBackendTest, CancelStopsATouchWait) {
  EmulatorState state;
  state.serial = kSerial;
  state.slots[0] = hmac_slot(random_key(), /*require_touch=*/true);
  state.programming_sequence = 1;
  state.touch = TouchMode::never;
  set_state(state);
  auto token = open_only_key();
  ASSERT_TRUE(token);
  std::atomic<bool> prompted{false};
  std::thread canceller([&] {
    while (!prompted.load()) std::this_thread::sleep_for(5ms);
    std::this_thread::sleep_for(100ms);
    token->cancel();
  });
  const auto start = Clock::now();
  auto response = token->otp()->challenge_response(OtpSlot::one, random_challenge(), 20s,
                                                   [&] { prompted.store(true); });
  canceller.join();
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.code(), Code::cancelled);
  EXPECT_LT(Clock::now() - start, 5s);
}

TEST_F(YubiKeyBackendTest, KeyRemovedMidOperationIsTokenRemoved) {
  const auto key = random_key();
  EmulatorState state;
  state.serial = kSerial;
  state.slots[1] = hmac_slot(key, /*require_touch=*/true);
  state.touch_delay_ms = 100;
  state.programming_sequence = 1;
  set_state(state);
  auto token = open_only_key();
  ASSERT_TRUE(token);

  // How many control transfers one whole operation takes (open, status, challenge, touch wait,
  // response); then pull the key out after every few of them.
  const auto before = touchpass_ykemu_transfer_count();
  ASSERT_TRUE(token->otp()->challenge_response(OtpSlot::two, random_challenge(), 5s, nullptr).ok());
  const auto transfers = static_cast<std::uint32_t>(touchpass_ykemu_transfer_count() - before);
  ASSERT_GT(transfers, 20U);

  for (std::uint32_t after_transfers = 0; after_transfers < transfers - 2; after_transfers += 3) {
    SCOPED_TRACE(after_transfers);
    state.remove_after_transfers = after_transfers;  // counted from this file's (re)load
    set_state(state);
    auto response = token->otp()->challenge_response(OtpSlot::two, random_challenge(), 5s, nullptr);
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.code(), Code::token_removed) << response.error().message;
    // Unplugged: not listed any more.
    auto listed = YubiKeyDiscovery().enumerate();
    ASSERT_TRUE(listed.ok());
    EXPECT_TRUE(listed->empty());
  }

  // Programming, too.
  state.remove_after_transfers = std::nullopt;
  state.slots[1].reset();
  set_state(state);
  token = open_only_key();
  ASSERT_TRUE(token);
  state.remove_after_transfers = 20;
  set_state(state);
  Status programmed = token->otp()->program_challenge_response(OtpSlot::one, false, false);
  ASSERT_FALSE(programmed.ok());
  EXPECT_EQ(programmed.code(), Code::token_removed) << programmed.message();
}

TEST_F(YubiKeyBackendTest, CorruptedResponseCrcIsMalformedReply) {
  EmulatorState state;
  state.serial = kSerial;
  state.slots[1] = hmac_slot(random_key());
  state.programming_sequence = 1;
  set_state(state);
  auto token = open_only_key();
  ASSERT_TRUE(token);
  state.corrupt_response_crc = true;
  set_state(state);
  auto response = token->otp()->challenge_response(OtpSlot::two, random_challenge(), 5s, nullptr);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.code(), Code::malformed_reply);
}

TEST_F(YubiKeyBackendTest, TheOtpInterfaceHasNoFido2Application) {
  auto token = open_only_key();
  ASSERT_TRUE(token);
  EXPECT_NE(token->otp(), nullptr);
  EXPECT_EQ(token->fido2(), nullptr);
  EXPECT_EQ(token->wait_for_touch(1s).code(), Code::capability_missing);
}

}  // namespace
}  // namespace touchpass::devices::yubikey
