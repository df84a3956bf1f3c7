// YubiKey challenge-response end to end: the real touchpassd, through the real libykpers, with
// the YubiKey emulated at the libusb boundary by LD_PRELOAD of libtouchpass-ykemu.so; the
// touchpass CLI as the user types it.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fstream>

#include "core/bytes.h"
#include "core/derivation.h"
#include "core/grant.h"
#include "daemon/daemon_harness.h"

namespace touchpass::testing {
namespace {

using ipc::Json;

class YubiKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Deployment::Options options;
    options.usb_tokens = true;
    options.token_timeout = 3;
    options.extra_config = "failure_delay_ms = 0\n";
    state_ =
        fs::temp_directory_path() / ("touchpass-ykemu-" + std::to_string(::getpid()) + ".json");
    write_state(Json::object());  // a key with both slots empty
    std::string preload = TOUCHPASS_YKEMU_LIBRARY;
#ifdef TOUCHPASS_PRELOAD_FIRST
    preload = std::string(TOUCHPASS_PRELOAD_FIRST) + ":" + preload;  // the ASan runtime first
#endif
    options.daemon_env = {"LD_PRELOAD=" + preload, "TOUCHPASS_YKEMU_STATE=" + state_.string()};
    client_env_ = options.daemon_env;  // the CLI drives the key for issue and show
    deployment_ = std::make_unique<Deployment>(options);
    ASSERT_TRUE(deployment_->start_daemon()) << deployment_->daemon_log();
  }
  void TearDown() override {
    deployment_.reset();
    fs::remove(state_);
  }

  // The emulator's state: serial 12345678, firmware 5.4.3, `slots` as given.
  void write_state(const Json& slots) {
    const fs::path tmp = state_.string() + ".new";
    // A person touches the key 300 ms after it starts waiting, so the wait is visible.
    std::ofstream(tmp) << Json{
        {"serial", 12345678},
        {"firmware", "5.4.3"},
        {"slots", slots},
        {"touch_delay_ms",
         300}}.dump();
    fs::rename(tmp, state_);
  }
  Json read_state() {
    return Json::parse(read_file(state_));
  }

  CommandResult touchpass(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {TOUCHPASS_BINARY, "--socket", deployment_->socket().string()});
    return run_command(args, input, std::nullopt, client_env_);
  }
  // The same, with the deployment's virtual tokens plugged in beside the YubiKey.
  CommandResult touchpass_with_virtual(std::vector<std::string> args,
                                       const std::string& input = "") {
    args.insert(args.begin(), {"--virtual-tokens", (deployment_->dir() / "virtual").string()});
    return touchpass(std::move(args), input);
  }

  fs::path state_;
  std::vector<std::string> client_env_;
  std::unique_ptr<Deployment> deployment_;
};

TEST_F(YubiKeyTest, DevicesListsTheKeyWithSerialAndSlots) {
  auto listed = touchpass({"devices", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const Json devices = Json::parse(listed.out)["devices"];
  ASSERT_EQ(devices.size(), 1u) << listed.out;
  EXPECT_EQ(devices[0]["kind"], "yubikey");
  EXPECT_EQ(devices[0]["serial"], 12345678);
  EXPECT_EQ(devices[0]["firmware"], "5.4.3");
  // Named from the device catalog by its USB ids (1050:0407).
  EXPECT_EQ(devices[0]["model"].get<std::string>().rfind("Yubico YubiKey", 0), 0u) << devices[0];
  EXPECT_EQ(devices[0]["slots"][1]["programmed"], false);
  auto table = touchpass({"devices"});
  EXPECT_NE(table.out.find("serial 12345678"), std::string::npos) << table.out;
}

TEST_F(YubiKeyTest, EnrollProgramIssueShowAndVerify) {
  // An empty slot is not used without --program.
  auto empty = touchpass({"enroll", "--kind", "yubikey"});
  EXPECT_EQ(empty.exit_code, 7) << empty.err;
  EXPECT_NE(empty.err.find("--program"), std::string::npos) << empty.err;

  // Programming needs a confirmation; without a terminal, --yes.
  EXPECT_EQ(touchpass({"enroll", "--kind", "yubikey", "--program"}).exit_code, 2);
  auto enrolled = touchpass({"enroll", "--kind", "yubikey", "--program", "--yes"});
  ASSERT_EQ(enrolled.exit_code, 0) << enrolled.err << deployment_->daemon_log();
  EXPECT_NE(enrolled.err.find("Touch your security key"), std::string::npos)
      << enrolled.err << read_state().dump();
  const Json slot = read_state()["slots"]["2"];
  ASSERT_TRUE(slot.is_object()) << read_state().dump();
  EXPECT_TRUE(slot["require_touch"].get<bool>());
  // Slot 2 now holds a key the daemon never reveals; refusing to overwrite it without --force.
  EXPECT_NE(touchpass({"enroll", "--kind", "yubikey", "--program", "--yes"}).exit_code, 0);

  auto issued = touchpass({"issue", "phone mail", "--scope", "imap"});
  ASSERT_EQ(issued.exit_code, 0) << issued.err;
  const std::string password = issued.out.substr(0, 24);
  auto shown = touchpass({"show", "phone mail"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(shown.out, issued.out);

  // Independently: S = HMAC-SHA1(the slot's key, SHA-512("touchpass/v1/challenge" || grant id)).
  const Json grants = Json::parse(touchpass({"list", "--json"}).out)["grants"];
  ASSERT_EQ(grants.size(), 1u);
  EXPECT_EQ(grants[0]["kind"], "yubikey");
  const auto grant_id = GrantId::from_bytes(*from_hex(grants[0]["grant_id"].get<std::string>()));
  ASSERT_TRUE(grant_id.ok());
  const auto key = *from_hex(read_state()["slots"]["2"]["key"].get<std::string>());
  const auto challenge = yubikey_challenge(kGrantVersion, *grant_id);
  std::uint8_t s[20];
  unsigned int len = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), challenge->data(), challenge->size(),
       s, &len);
  auto expected =
      derive_app_password(kGrantVersion, std::span<const std::uint8_t>(s, len), *grant_id);
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(expected->grouped(), password);

  auto client = Client::connect(deployment_->socket());
  auto verified = client->send(req("verify", {{"user", "root"}, {"service", "imap"}}), password);
  ASSERT_TRUE(verified);
  EXPECT_EQ(verified->final.kind, ipc::Reply::Kind::ok);
}

TEST_F(YubiKeyTest, AReprogrammedSlotIsRefusedByTheRollingChallenge) {
  ASSERT_EQ(touchpass({"enroll", "--kind", "yubikey", "--program", "--yes"}).exit_code, 0);
  ASSERT_EQ(touchpass({"issue", "mail", "--scope", "all"}).exit_code, 0);
  // Someone reprograms slot 2 behind touchpass's back (same serial, another secret).
  Json state = read_state();
  Json slots = state["slots"];
  slots["2"]["key"] = std::string(40, 'a');
  write_state(slots);
  auto shown = touchpass({"show", "mail"});
  EXPECT_EQ(shown.exit_code, 5) << shown.err;
  EXPECT_NE(shown.err.find("reprogrammed"), std::string::npos) << shown.err;
  EXPECT_TRUE(shown.out.empty());
  auto issued = touchpass({"issue", "mail2", "--scope", "all"});
  EXPECT_EQ(issued.exit_code, 5) << issued.err;
  const Json grants = Json::parse(touchpass({"list", "--json"}).out)["grants"];
  EXPECT_EQ(grants.size(), 1u);  // nothing stored
  auto log = touchpass({"log", "--json"});
  EXPECT_NE(log.out.find("verification_failed"), std::string::npos);  // audited
}

TEST_F(YubiKeyTest, AYubiKeyHoldingAnOfferedCredentialIsUsedWithoutATouchToSelectIt) {
  // The user's FIDO2 credential is on another key (token0), which is not plugged in now.
  ASSERT_TRUE(deployment_->start_token("token0"));
  auto fido2 =
      touchpass_with_virtual({"enroll", "--label", "other key", "--pin-stdin"}, "123456\n");
  ASSERT_EQ(fido2.exit_code, 0) << fido2.err;
  deployment_->stop_token("token0");
  ASSERT_EQ(touchpass({"enroll", "--kind", "yubikey", "--program", "--yes"}).exit_code, 0);
  // A YubiKey also has a FIDO2 interface, which holds none of the user's credentials and answers
  // a touch; a fresh virtual key stands for it. A touch to choose between the two interfaces
  // picked that one, and the issue failed with "does not hold".
  ASSERT_TRUE(deployment_->start_token("yubikey-fido2"));
  auto issued = touchpass_with_virtual({"issue", "mail", "--scope", "all"});
  ASSERT_EQ(issued.exit_code, 0) << issued.err;
  EXPECT_EQ(issued.err.find("touch the one you want to use"), std::string::npos) << issued.err;
  const Json grants = Json::parse(touchpass({"list", "--json"}).out)["grants"];
  ASSERT_EQ(grants.size(), 1u);
  EXPECT_EQ(grants[0]["kind"], "yubikey");
  auto shown = touchpass_with_virtual({"show", "mail"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(shown.out, issued.out);
}

// A broken key — never touched, pulled out mid-operation, answering with a corrupted CRC —
// gives a clear error, and nothing is stored.
struct BrokenKey {
  const char* name;
  const char* field;
  Json value;
  const char* message;  // part of what the user is told
};

class BrokenYubiKeyTest : public YubiKeyTest, public ::testing::WithParamInterface<BrokenKey> {};

TEST_P(BrokenYubiKeyTest, GivesAClearErrorAndStoresNothing) {
  ASSERT_EQ(touchpass({"enroll", "--kind", "yubikey", "--program", "--yes"}).exit_code, 0);
  Json state = read_state();
  state[GetParam().field] = GetParam().value;
  const fs::path tmp = state_.string() + ".new";
  std::ofstream(tmp) << state.dump();
  fs::rename(tmp, state_);
  auto issued = touchpass({"issue", "mail", "--scope", "all"});
  EXPECT_EQ(issued.exit_code, 5) << issued.err;
  EXPECT_NE(issued.err.find(GetParam().message), std::string::npos) << issued.err;
  EXPECT_TRUE(issued.out.empty());
  EXPECT_TRUE(Json::parse(touchpass({"list", "--json"}).out)["grants"].empty());
}

INSTANTIATE_TEST_SUITE_P(
    YubiKey, BrokenYubiKeyTest,
    ::testing::Values(BrokenKey{"NeverTouched", "touch", "never", "touch"},
                      BrokenKey{"RemovedMidOperation", "remove_after_transfers", 60, "removed"},
                      BrokenKey{"CorruptedCrc", "corrupt_response_crc", true, "understood"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace touchpass::testing
