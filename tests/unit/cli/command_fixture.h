// The fixtures of the command tests: whole command lines run against a fake daemon
// (CommandTest) and, for the ceremonies, with a real key: the in-process virtual token reached
// through the real libfido2 (CeremonyCommandTest).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "cli_test_support.h"
#include "devices/fido2/fido2_token.h"
#include "ipc/ceremony.h"
#include "support/fd_pairs.h"
#include "support/virtual_token.h"

namespace touchpass::cli::testing {

using ipc::Json;

inline constexpr std::int64_t kNow = 1700000000;
inline constexpr std::string_view kPassword = "k7qm-x9fj-4tca-2hwe-p3vn";

inline const Json kGrant = {{"grant_id", "00112233445566778899aabbccddeeff"},
                            {"user", "alice"},
                            {"name", "thunderbird"},
                            {"scopes", {"imap", "smtp"}},
                            {"created", kNow},
                            {"expires", 0},
                            {"token_id", 1},
                            {"token_label", "desk key"},
                            {"kind", "fido2"}};

// Runs whole command lines against a fake daemon, with a pipe as standard input for PINs.
class CommandTest : public ::testing::Test {
 protected:
  CommandTest() {
    auto pipe = touchpass::testing::make_pipe();
    EXPECT_TRUE(pipe.ok()) << pipe.error().message;
    if (pipe.ok()) stdin_ = std::move(*pipe);
    env_.make_pins = [this](bool pin_stdin) -> std::unique_ptr<PinSource> {
      if (pin_stdin) return std::make_unique<LinePinSource>(stdin_.read.get(), cancel_);
      return std::make_unique<NoTerminalPinSource>();
    };
    env_.now = [] { return kNow; };
    env_.catch_signals = false;
    env_.timing = {.poll_interval = 20ms, .reply_timeout = 2000ms};
  }

  void type_on_stdin(std::string_view text) {
    ASSERT_EQ(::write(stdin_.write.get(), text.data(), text.size()),
              static_cast<ssize_t>(text.size()));
  }

  int run(const FakeDaemon& daemon, std::vector<std::string> args) {
    args.insert(args.begin(), {"touchpass", "--socket", daemon.path()});
    return run_touchpass(args, env_);
  }

  RecordingConsole console_;
  CancelFlag cancel_;
  Environment env_ = process_environment(console_, cancel_);
  touchpass::testing::Pipe stdin_;  // standard input, for --pin-stdin
};

// Issue and show drive a real key: the in-process virtual token, reached through the real
// libfido2 by the client library, holding a credential enrolled with PIN "1234". The daemon end
// is a script that offers that credential and answers the finish with a password.
class CeremonyCommandTest : public CommandTest {
 protected:
  void SetUp() override {
    vtoken::Config config;
    config.initial_pin = "1234";
    auto token = touchpass::testing::InProcessVirtualToken::start(tokens_.path(), config);
    ASSERT_TRUE(token.ok()) << token.error().message;
    token_ = std::move(*token);
    auto opened = token_->open();
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    const SecretBytes pin = SecretBytes::copy_of(std::string_view("1234"));
    devices::EnrollRequest request;
    request.rp_id = "touchpass";
    request.rp_name = "touchpass";
    request.user_id = Bytes(16, 7);
    request.user_name = "alice";
    request.client_data_hash = Bytes(32, 9);
    request.pin = &pin;
    auto enrolled = (*opened)->enroll(request);
    ASSERT_TRUE(enrolled.ok()) << enrolled.error().message;
    credential_ = enrolled->credential;
  }

  int run(const FakeDaemon& daemon, std::vector<std::string> args) {
    args.insert(args.begin(), {"--virtual-tokens", tokens_.path().string(), "--no-usb"});
    return CommandTest::run(daemon, std::move(args));
  }

  // The offer of a v2 ceremony for the enrolled credential.
  Json offer() const {
    ipc::CeremonyOffer o;
    o.ceremony = Bytes(ipc::kCeremonyIdBytes, 1);
    o.expires_in = 60;
    o.origin = "touchpass";
    o.salt = Bytes(32, 2);
    ipc::OfferedCredential c;
    c.token = "desk key";
    c.credential = credential_.id;
    c.rp_id = credential_.rp_id;
    c.user_verification = true;
    c.public_key = credential_.public_key;
    c.sign_count = credential_.sign_count;
    c.challenge = Bytes(32, 3);
    o.credentials.push_back(c);
    return o.to_json();
  }

  // A daemon that offers the credential, checks that the finish carries what the key signed and
  // a 32-byte secret, and answers with the password.
  // Answers an issue or show ceremony with kGrant and kPassword, and `extra` in the result.
  Script issuing_daemon(Json* request_seen, Json extra = Json::object()) const {
    return [this, request_seen, extra](DaemonConnection& d) {
      *request_seen = d.next_json();
      d.ok(offer());
      const ipc::Frame finish = d.next();
      const Json f = Json::parse(finish.json);
      EXPECT_EQ(f["op"], "finish");
      EXPECT_EQ(f["credential"], to_base64url(credential_.id));
      EXPECT_NE(f["client_data_json"].get<std::string>().find(to_base64url(Bytes(32, 3))),
                std::string::npos);
      EXPECT_TRUE(f.contains("signature") && f.contains("authenticator_data"));
      EXPECT_EQ(finish.secret.size(), 32u);
      Json result = {{"grant", kGrant}};
      result.update(extra);
      d.ok(result, kPassword);
    };
  }

  touchpass::testing::TempDir tokens_;
  std::unique_ptr<touchpass::testing::InProcessVirtualToken> token_;
  devices::Credential credential_;
};

}  // namespace touchpass::cli::testing
