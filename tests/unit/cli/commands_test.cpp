#include "cli/commands.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/exit_code.h"
#include "cli_test_support.h"
#include "devices/fido2/fido2_token.h"
#include "ipc/ceremony.h"
#include "support/fd_pairs.h"
#include "support/qr_reader.h"
#include "support/virtual_token.h"

namespace touchpass::cli {
namespace {

using namespace testing;
using ipc::Json;

constexpr std::int64_t kNow = 1700000000;
constexpr std::string_view kPassword = "k7qm-x9fj-4tca-2hwe-p3vn";

const Json kGrant = {{"grant_id", "00112233445566778899aabbccddeeff"},
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

  // Runs `touchpass log --verify` against a daemon that answers `answer`; the exit status.
  int run_log_verify(const Json& answer);

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

TEST_F(CeremonyCommandTest, IssuePrintsThePasswordExactlyOnceOnStdout) {
  Json request;
  auto daemon = listening_daemon(issuing_daemon(&request));
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  type_on_stdin("1234\n");
  const int code = run(*daemon, {"issue", "thunderbird", "--scope", "imap, smtp", "--expires",
                                 "90d", "--pin-stdin"});
  daemon->stop();
  EXPECT_EQ(code, 0) << console_.err_text;
  EXPECT_EQ(request["op"], "issue-begin");
  EXPECT_EQ(request["name"], "thunderbird");
  EXPECT_EQ(request["scopes"], Json({"imap", "smtp"}));
  EXPECT_EQ(request["expires"], kNow + 90 * 86400);
  EXPECT_EQ(console_.out_text, std::string(kPassword) + "\n");
  EXPECT_EQ(console_.secrets_written, 1);
  EXPECT_EQ(occurrences(console_.err_text, kPassword), 0);
  EXPECT_NE(console_.err_text.find("Touch your security key…"), std::string::npos);
  EXPECT_NE(console_.err_text.find("Store it in your mail client now. `touchpass show thunderbird` "
                                   "shows it again, with your security key."),
            std::string::npos);
  EXPECT_EQ(console_.err_text.find("shown once"), std::string::npos);
}

TEST_F(CeremonyCommandTest, IssueFromSendsTheNetworks) {
  Json request;
  auto daemon = listening_daemon(issuing_daemon(&request));
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  type_on_stdin("1234\n");
  const int code =
      run(*daemon, {"issue", "office", "--scope", "all", "--from", "192.168.0.0/16, 2001:db8::/32",
                    "--from", "10.0.0.1", "--pin-stdin"});
  daemon->stop();
  EXPECT_EQ(code, 0) << console_.err_text;
  EXPECT_EQ(request["op"], "issue-begin");
  EXPECT_EQ(request["networks"], Json({"192.168.0.0/16", "2001:db8::/32", "10.0.0.1"}));
}

TEST_F(CeremonyCommandTest, IssueDefaultsToNeverExpiring) {
  Json request;
  auto daemon = listening_daemon(issuing_daemon(&request));
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  type_on_stdin("1234\n");
  EXPECT_EQ(run(*daemon, {"issue", "thunderbird", "--scope", "all", "--pin-stdin"}), 0);
  daemon->stop();
  EXPECT_EQ(request["expires"], 0);
  EXPECT_EQ(request["scopes"], Json::array());
  EXPECT_EQ(request["every_service"], true);
}

TEST_F(CeremonyCommandTest, IssueForAPhoneDrawsTheLinkAsAQrCodeInsteadOfThePassword) {
  if (!touchpass::testing::zbarimg_available()) GTEST_SKIP() << "needs zbarimg (zbar-tools)";
  const std::string link =
      "https://mail.example.test/setup.html#q2ZxWBVwJ3uUrHl0d9CSq-jC_X9mBgW7uWbOqV2Yz3E";
  Json request;
  auto daemon = listening_daemon(
      issuing_daemon(&request, {{"phone_setup", {{"link", link}, {"expires", kNow + 600}}}}));
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  type_on_stdin("1234\n");
  const int code =
      run(*daemon, {"issue", "iphone", "--scope", "imap,smtp", "--phone", "--pin-stdin"});
  daemon->stop();
  EXPECT_EQ(code, 0) << console_.err_text;
  EXPECT_EQ(request["phone_setup"], true);
  std::string why;
  const auto scanned = touchpass::testing::read_terminal_qr(console_.out_text, &why);
  ASSERT_TRUE(scanned.has_value()) << why << "\n" << console_.out_text;
  EXPECT_EQ(*scanned, link);
  EXPECT_EQ(console_.secrets_written, 0);
  EXPECT_EQ(occurrences(console_.out_text + console_.err_text, kPassword), 0);
  EXPECT_NE(console_.err_text.find("It works once"), std::string::npos) << console_.err_text;
}

TEST_F(CeremonyCommandTest, APhoneSetupThatFailedStillDeliversThePasswordAndExitsOne) {
  Json request;
  auto daemon = listening_daemon(
      issuing_daemon(&request, {{"phone_setup_error", "Too many phone setups are waiting."}}));
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  type_on_stdin("1234\n");
  const int code = run(*daemon, {"show", "iphone", "--phone", "--pin-stdin"});
  daemon->stop();
  EXPECT_EQ(code, 1);
  EXPECT_EQ(request["phone_setup"], true);
  EXPECT_EQ(console_.out_text, std::string(kPassword) + "\n");
  EXPECT_NE(console_.err_text.find("No phone setup: Too many phone setups are waiting."),
            std::string::npos)
      << console_.err_text;
}

TEST_F(CeremonyCommandTest, ShowWithJsonPutsThePasswordIntoTheGrantJson) {
  Json request;
  auto daemon = listening_daemon(issuing_daemon(&request));
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  type_on_stdin("1234\n");
  EXPECT_EQ(run(*daemon, {"show", "thunderbird", "--pin-stdin", "--json", "--user", "alice"}), 0);
  daemon->stop();
  EXPECT_EQ(request["op"], "show-begin");
  EXPECT_EQ(request["user"], "alice");
  const Json printed = Json::parse(console_.out_text);
  EXPECT_EQ(printed, Json({{"grant", kGrant}, {"password", kPassword}}));
  EXPECT_EQ(occurrences(console_.out_text, kPassword), 1);
  EXPECT_NE(console_.err_text.find("`touchpass show thunderbird --user alice`"), std::string::npos);
}

TEST_F(CeremonyCommandTest, NeedPinWithoutTerminalFailsClearlyAndCancels) {
  // The PIN is asked here, by the client, before the key is asked anything; without a terminal
  // or --pin-stdin the command fails and never finishes the ceremony.
  auto daemon = listening_daemon([&](DaemonConnection& d) {
    d.next();
    d.ok(offer());
  });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(run(*daemon, {"show", "thunderbird"}), 5);
  daemon->stop();
  EXPECT_EQ(console_.err_text,
            "A PIN is needed but there is no terminal to ask on; use --pin-stdin.\n");
  EXPECT_EQ(console_.out_text, "");
}

TEST_F(CeremonyCommandTest, MalformedPasswordIsNotPrinted) {
  auto daemon = listening_daemon([this](DaemonConnection& d) {
    d.next();
    d.ok(offer());
    d.next();
    d.ok({{"grant", kGrant}}, "\x1b]52;c;evil\x07");
  });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  type_on_stdin("1234\n");
  EXPECT_EQ(run(*daemon, {"show", "thunderbird", "--pin-stdin"}), 1);
  daemon->stop();
  EXPECT_EQ(console_.out_text, "");
  EXPECT_NE(console_.err_text.find("touchpassd sent no valid password.\n"), std::string::npos);
  EXPECT_EQ(console_.err_text.find("evil"), std::string::npos);
}

// A directory of fake clipboard programs for --copy.
class FakeTools {
 public:
  FakeTools() {
    char dir_template[] = "/tmp/touchpass-cli-tools-XXXXXX";
    dir_ = ::mkdtemp(dir_template);
  }
  ~FakeTools() { std::filesystem::remove_all(dir_); }
  void add(const std::string& name, const std::string& body) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
    ::chmod(path.c_str(), 0700);
  }
  std::string file(const std::string& name) const {
    std::ifstream in(dir_ + "/" + name);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

TEST_F(CeremonyCommandTest, CopyUsesTheFirstClipboardToolThatWorks) {
  FakeTools tools;
  tools.add("wl-copy", "exit 1");
  tools.add("xclip",
            "cat > \"$(dirname \"$0\")/copied\"; echo \"$@\" > \"$(dirname \"$0\")/args\"");
  env_.clipboard = {default_clipboard_tools(), tools.dir(), {"WAYLAND_DISPLAY", "DISPLAY"}};
  Json request;
  auto daemon = listening_daemon(issuing_daemon(&request));
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  type_on_stdin("1234\n");
  EXPECT_EQ(run(*daemon, {"issue", "thunderbird", "--scope", "all", "--pin-stdin", "--copy"}), 0);
  daemon->stop();
  EXPECT_EQ(tools.file("copied"), kPassword);
  EXPECT_EQ(tools.file("args"), "-selection clipboard\n");
  EXPECT_EQ(console_.out_text, "");
  EXPECT_NE(console_.err_text.find("Copied the password to the clipboard with xclip."),
            std::string::npos);
}

// --copy without a clipboard fails before the key is asked (nothing is issued that could not
// be received), and never prints the password instead.
TEST_F(CeremonyCommandTest, CopyWithoutAGraphicalSessionFailsBeforeTheKeyIsAsked) {
  FakeTools tools;
  tools.add("wl-copy", "cat > \"$(dirname \"$0\")/copied\"");
  tools.add("xclip", "cat > \"$(dirname \"$0\")/copied\"");
  env_.clipboard = {default_clipboard_tools(), tools.dir(), {}};
  auto daemon =
      listening_daemon([](DaemonConnection&) { ADD_FAILURE() << "the daemon was contacted"; });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(run(*daemon, {"issue", "thunderbird", "--scope", "all", "--pin-stdin", "--copy"}), 1);
  daemon->stop();
  EXPECT_EQ(console_.out_text, "");
  EXPECT_NE(console_.err_text.find("There is no clipboard here: no graphical session (neither "
                                   "WAYLAND_DISPLAY nor DISPLAY is set). Nothing was issued"),
            std::string::npos)
      << console_.err_text;
  EXPECT_EQ(tools.file("copied"), "");
}

TEST_F(CeremonyCommandTest, CopyWithoutAToolForTheSessionFailsBeforeTheKeyIsAsked) {
  FakeTools tools;
  tools.add("wl-copy", "cat > \"$(dirname \"$0\")/copied\"");  // Wayland's, and no Wayland
  env_.clipboard = {default_clipboard_tools(), tools.dir(), {"DISPLAY"}};
  auto daemon =
      listening_daemon([](DaemonConnection&) { ADD_FAILURE() << "the daemon was contacted"; });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(run(*daemon, {"show", "thunderbird", "--pin-stdin", "-c"}), 1);
  daemon->stop();
  EXPECT_EQ(console_.out_text, "");
  EXPECT_NE(console_.err_text.find("No clipboard tool for this session is installed (wl-copy for "
                                   "Wayland, xclip or xsel for X11). Nothing was shown"),
            std::string::npos)
      << console_.err_text;
}

TEST_F(CeremonyCommandTest, CopyThatFailsAfterIssuingSaysHowToGetThePasswordWithoutPrintingIt) {
  FakeTools tools;
  tools.add("wl-copy", "cat > /dev/null; exit 1");
  env_.clipboard = {default_clipboard_tools(), tools.dir(), {"WAYLAND_DISPLAY"}};
  Json request;
  auto daemon = listening_daemon(issuing_daemon(&request));
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  type_on_stdin("1234\n");
  EXPECT_EQ(run(*daemon, {"issue", "thunderbird", "--scope", "all", "--pin-stdin", "--copy"}), 1);
  daemon->stop();
  EXPECT_EQ(console_.out_text, "");
  EXPECT_EQ(console_.secrets_written, 0);
  EXPECT_EQ(occurrences(console_.err_text, kPassword), 0);
  EXPECT_NE(console_.err_text.find("Copying to the clipboard failed. The app password was issued "
                                   "but not printed; `touchpass show thunderbird` shows it, with "
                                   "your security key.\n"),
            std::string::npos)
      << console_.err_text;
}

TEST_F(CeremonyCommandTest, ShortOptionsAreTheLongOnes) {
  Json request;
  auto daemon = listening_daemon(issuing_daemon(&request));
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  type_on_stdin("1234\n");
  const int code = run(*daemon, {"issue", "thunderbird", "-s", "imap,smtp", "-e", "90d", "-u",
                                 "alice", "-j", "--pin-stdin"});
  daemon->stop();
  EXPECT_EQ(code, 0) << console_.err_text;
  EXPECT_EQ(request["scopes"], Json({"imap", "smtp"}));
  EXPECT_EQ(request["expires"], kNow + 90 * 86400);
  EXPECT_EQ(request["user"], "alice");
  EXPECT_EQ(Json::parse(console_.out_text)["password"], kPassword);
}

TEST_F(CommandTest, ListPrintsATableOrTheJsonResult) {
  const Json result = {{"grants", {kGrant}}};
  auto table_daemon = listening_daemon([&](DaemonConnection& d) {
    EXPECT_EQ(d.next_json(), Json({{"v", 1}, {"op", "list"}, {"all_users", true}}));
    d.ok(result);
  });
  ASSERT_TRUE(table_daemon.ok()) << table_daemon.error().message;
  EXPECT_EQ(run(*table_daemon, {"list", "--all-users"}), 0);
  table_daemon->stop();
  EXPECT_EQ(console_.out_text.substr(0, 10), "USER   NAM");
  EXPECT_NE(console_.out_text.find("thunderbird  imap,smtp"), std::string::npos);

  console_.out_text.clear();
  auto json_daemon = listening_daemon([&](DaemonConnection& d) {
    d.next();
    d.ok(result);
  });
  ASSERT_TRUE(json_daemon.ok()) << json_daemon.error().message;
  EXPECT_EQ(run(*json_daemon, {"list", "--json"}), 0);
  json_daemon->stop();
  EXPECT_EQ(console_.out_text, result.dump(2) + "\n");
}

TEST_F(CommandTest, MalformedListingExitsOne) {
  auto daemon = listening_daemon([](DaemonConnection& d) {
    d.next();
    d.ok({{"tokens", "none"}});
  });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(run(*daemon, {"tokens"}), 1);
  daemon->stop();
  EXPECT_EQ(console_.out_text, "");
}

TEST_F(CommandTest, DaemonErrorsBecomeExitCodes) {
  const std::vector<std::pair<Code, int>> cases = {
      {Code::not_found, 7},        {Code::permission_denied, 4}, {Code::invalid_argument, 2},
      {Code::presence_timeout, 5}, {Code::internal, 1},          {Code::cancelled, 6}};
  for (const auto& [code, exit] : cases) {
    console_.err_text.clear();
    auto daemon = listening_daemon([code = code](DaemonConnection& d) {
      d.next();
      d.error(code, "Sentence for " + std::string(code_name(code)) + ".");
    });
    ASSERT_TRUE(daemon.ok()) << daemon.error().message;
    EXPECT_EQ(run(*daemon, {"rename", "a", "b"}), exit) << code_name(code);
    daemon->stop();
    EXPECT_EQ(console_.err_text, "Sentence for " + std::string(code_name(code)) + ".\n");
  }
}

TEST_F(CommandTest, UnreachableDaemonExitsThree) {
  auto daemon = listening_daemon([](DaemonConnection&) {});
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  daemon->stop();
  const std::string missing = daemon->path() + ".missing";
  EXPECT_EQ(run_touchpass(std::vector<std::string>{"touchpass", "--socket", missing, "list"}, env_),
            3);
  EXPECT_EQ(console_.err_text, "touchpassd is not running (cannot connect to " + missing + ").\n");
}

TEST_F(CommandTest, UsageErrorsExitTwoWithoutContactingTheDaemon) {
  auto daemon =
      listening_daemon([](DaemonConnection&) { ADD_FAILURE() << "the daemon was contacted"; });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(run(*daemon, {"issue", "x", "--scope", "all", "--expires", "soon"}), 2);
  EXPECT_NE(console_.err_text.find("Invalid --expires value \"soon\""), std::string::npos);
  EXPECT_EQ(run(*daemon, {"invite", "--expires", "never"}), 2);
  EXPECT_NE(console_.err_text.find("within 30 days"), std::string::npos);
  EXPECT_EQ(run(*daemon, {"revoke"}), 2);
  EXPECT_EQ(run(*daemon, {"revoke", "x", "--all"}), 2);
  EXPECT_EQ(run(*daemon, {"issue"}), 2);
  EXPECT_EQ(run(*daemon, {"log", "--limit", "0"}), 2);
  EXPECT_EQ(run(*daemon, {"frobnicate"}), 2);
  // Names and scopes the daemon would refuse (some only after the key was touched).
  console_.err_text.clear();
  EXPECT_EQ(run(*daemon, {"issue", "", "--scope", "all"}), 2);
  EXPECT_NE(console_.err_text.find("The app password name must be 1 to 64 characters long."),
            std::string::npos)
      << console_.err_text;
  EXPECT_EQ(run(*daemon, {"issue", " x", "--scope", "all"}), 2);
  EXPECT_EQ(run(*daemon, {"issue", "x\x1b[2J", "--scope", "all"}), 2);
  EXPECT_EQ(run(*daemon, {"issue", std::string(65, 'x')}), 2);
  console_.err_text.clear();
  EXPECT_EQ(run(*daemon, {"issue", "x", "--scope", "im ap"}), 2);
  EXPECT_NE(console_.err_text.find("Scope 1 is not valid"), std::string::npos) << console_.err_text;
  EXPECT_EQ(run(*daemon, {"issue", "x", "-s", "imap,imap"}), 2);
  EXPECT_EQ(run(*daemon, {"issue", "x", "--scope", "all", "-e", "2001-01-01"}), 2);
  EXPECT_EQ(run(*daemon, {"show", ""}), 2);
  EXPECT_EQ(run(*daemon, {"rename", "", "y"}), 2);
  console_.err_text.clear();
  EXPECT_EQ(run(*daemon, {"rename", "x", ""}), 2);
  EXPECT_NE(console_.err_text.find("The new name is not valid"), std::string::npos)
      << console_.err_text;
  EXPECT_EQ(run(*daemon, {"revoke", ""}), 2);
  EXPECT_EQ(run(*daemon, {"revoke", "--token", ""}), 2);
  EXPECT_EQ(run(*daemon, {"revoke", "-a", "-t", "key"}), 2);
  daemon->stop();
}

TEST_F(CommandTest, IssueNeedsScopesOrAllAndNeverDefaultsToEveryService) {
  auto daemon =
      listening_daemon([](DaemonConnection&) { ADD_FAILURE() << "the daemon was contacted"; });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(run(*daemon, {"issue", "x"}), 2);
  EXPECT_NE(console_.err_text.find("--scope all for every service"), std::string::npos)
      << console_.err_text;
  EXPECT_EQ(run(*daemon, {"issue", "x", "--scope", ""}), 2);
  EXPECT_EQ(run(*daemon, {"issue", "x", "--scope", " , "}), 2);
  EXPECT_EQ(run(*daemon, {"issue", "x", "--scope", "imap,ALL"}), 2);
  EXPECT_NE(console_.err_text.find("give it alone"), std::string::npos) << console_.err_text;
  daemon->stop();
}

TEST_F(CommandTest, AnUnknownCommandIsNamedWithTheNearestOne) {
  auto daemon =
      listening_daemon([](DaemonConnection&) { ADD_FAILURE() << "the daemon was contacted"; });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(run(*daemon, {"lst"}), 2);
  EXPECT_EQ(console_.err_text,
            "Unknown command \"lst\". Did you mean \"list\"?\n`touchpass --help` lists the "
            "commands.\n");
  console_.err_text.clear();
  EXPECT_EQ(run(*daemon, {"--no-usb", "frobnicate", "--json"}), 2);
  EXPECT_EQ(console_.err_text,
            "Unknown command \"frobnicate\".\n`touchpass --help` lists the commands.\n");
  console_.err_text.clear();
  EXPECT_EQ(run(*daemon, {"sh\x1b]0;x"}), 2);  // echoed without the control character
  EXPECT_EQ(console_.err_text.find('\x1b'), std::string::npos) << console_.err_text;
  daemon->stop();
  EXPECT_EQ(console_.out_text, "");
}

TEST_F(CommandTest, NoCommandPrintsAShortUsage) {
  EXPECT_EQ(run_touchpass(std::vector<std::string>{"touchpass"}, env_), 2);
  EXPECT_EQ(console_.out_text, "");
  EXPECT_EQ(console_.err_text.substr(0, console_.err_text.find('\n')),
            "Usage: touchpass [OPTIONS] COMMAND [ARGS]...");
  EXPECT_NE(console_.err_text.find(
                "Commands: enroll tokens devices issue show list services revoke rename "
                "log unlock invite verify\n"),
            std::string::npos)
      << console_.err_text;
  EXPECT_LT(std::count(console_.err_text.begin(), console_.err_text.end(), '\n'), 5);
  console_.err_text.clear();
  EXPECT_EQ(run_touchpass(std::vector<std::string>{"touchpass", "--no-usb"}, env_), 2);
  EXPECT_NE(console_.err_text.find("Usage: touchpass"), std::string::npos);
}

TEST_F(CommandTest, VersionPrintsTheProjectVersion) {
  EXPECT_EQ(run_touchpass(std::vector<std::string>{"touchpass", "--version"}, env_), 0);
  EXPECT_EQ(console_.out_text, "touchpass " TOUCHPASS_VERSION "\n");
}

// The hidden command behind the bash completion.
TEST_F(CommandTest, CompleteListsActiveNamesAndLabelsOneALine) {
  const Json grants = {{"grants",
                        {{{"name", "thunderbird"}},
                         {{"name", "my phone"}},
                         {{"name", "old"}, {"revoked", 60}},
                         {{"name", "bad\nname"}},
                         {{"name", "it's \"odd\" $x"}}}}};
  auto daemon = listening_daemon([&](DaemonConnection& d) {
    EXPECT_EQ(d.next_json(), Json({{"v", 1}, {"op", "list"}, {"user", "bob"}}));
    d.ok(grants);
  });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(run(*daemon, {"__complete", "names", "--user", "bob"}), 0);
  daemon->stop();
  EXPECT_EQ(console_.out_text, "thunderbird\nmy phone\nit's \"odd\" $x\n");

  console_.out_text.clear();
  const Json tokens = {{"tokens", {{{"label", "desk key"}}, {{"label", "lost"}, {"revoked", 1}}}}};
  auto tokens_daemon = listening_daemon([&](DaemonConnection& d) {
    EXPECT_EQ(d.next_json()["op"], "tokens");
    d.ok(tokens);
  });
  ASSERT_TRUE(tokens_daemon.ok()) << tokens_daemon.error().message;
  EXPECT_EQ(run(*tokens_daemon, {"__complete", "tokens"}), 0);
  tokens_daemon->stop();
  EXPECT_EQ(console_.out_text, "desk key\n");
  EXPECT_EQ(console_.err_text, "");
}

TEST_F(CommandTest, CompleteIsSilentWithoutADaemonOrWithAServer) {
  EXPECT_EQ(run_touchpass(std::vector<std::string>{"touchpass", "--socket", "/nonexistent/sock",
                                                   "__complete", "names"},
                          env_),
            0);
  EXPECT_EQ(run_touchpass(std::vector<std::string>{"touchpass", "--server", "https://127.0.0.1:9",
                                                   "__complete", "names"},
                          env_),
            0);
  auto failing = listening_daemon([](DaemonConnection& d) {
    d.next();
    d.error(Code::permission_denied, "Only root may act for another user.");
  });
  ASSERT_TRUE(failing.ok()) << failing.error().message;
  EXPECT_EQ(run(*failing, {"__complete", "names", "-u", "root"}), 0);
  failing->stop();
  EXPECT_EQ(console_.out_text, "");
  EXPECT_EQ(console_.err_text, "");
}

TEST_F(CommandTest, CompleteIsNotListedInHelp) {
  EXPECT_EQ(run_touchpass(std::vector<std::string>{"touchpass", "--help"}, env_), 0);
  EXPECT_EQ(console_.out_text.find("__complete"), std::string::npos);
}

TEST_F(CommandTest, HelpExitsZeroAndListsExitCodes) {
  auto daemon = listening_daemon([](DaemonConnection&) {});
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(run(*daemon, {"--help"}), 0);
  EXPECT_NE(console_.out_text.find("Exit codes:"), std::string::npos);
  console_.out_text.clear();
  EXPECT_EQ(run(*daemon, {"revoke", "--help"}), 0);
  EXPECT_NE(console_.out_text.find("--yes"), std::string::npos);
  daemon->stop();
}

TEST_F(CommandTest, RevokeAllWithoutTerminalRefusesUnlessYes) {
  int requests = 0;
  auto daemon = listening_daemon([&requests](DaemonConnection& d) {
    EXPECT_EQ(d.next_json()["op"], "list");
    ++requests;
    d.ok({{"grants", {kGrant}}});
    EXPECT_FALSE(d.read({1000ms, 1000ms}).ok()) << "revoked without asking";
  });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  console_.confirm_answer = std::nullopt;
  EXPECT_EQ(run(*daemon, {"revoke", "--all", "--user", "alice"}), 2);
  daemon->stop();
  EXPECT_EQ(requests, 1);
  EXPECT_NE(console_.err_text.find("add --yes"), std::string::npos);
}

TEST_F(CommandTest, RevokeAllAsksWithTheCount) {
  Json revoke;
  auto daemon = listening_daemon([&revoke](DaemonConnection& d) {
    d.next();
    Json revoked = kGrant;
    revoked["revoked"] = kNow;
    d.ok({{"grants", {kGrant, kGrant, revoked}}});
    revoke = d.next_json();
    d.ok({{"revoked", 2}});
  });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  console_.confirm_answer = true;
  EXPECT_EQ(run(*daemon, {"revoke", "--all", "--user", "alice"}), 0);
  daemon->stop();
  ASSERT_EQ(console_.questions.size(), 1U);
  EXPECT_EQ(console_.questions[0], "Revoke all 2 app passwords of alice? [y/N] ");
  EXPECT_EQ(revoke, Json({{"v", 1}, {"op", "revoke"}, {"all", true}, {"user", "alice"}}));
  EXPECT_EQ(console_.out_text, "Revoked 2 app password(s) of alice.\n");
}

TEST_F(CommandTest, RevokeAllDeclinedIsCancelled) {
  auto daemon = listening_daemon([](DaemonConnection& d) {
    d.next();
    d.ok({{"grants", {kGrant}}});
  });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  console_.confirm_answer = false;
  EXPECT_EQ(run(*daemon, {"revoke", "--all"}), 6);
  daemon->stop();
}

TEST_F(CommandTest, RevokeAllWithYesDoesNotAsk) {
  auto daemon = listening_daemon([](DaemonConnection& d) {
    EXPECT_EQ(d.next_json(), Json({{"v", 1}, {"op", "revoke"}, {"all", true}}));
    d.ok({{"revoked", 3}});
  });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(run(*daemon, {"revoke", "--all", "--yes"}), 0);
  daemon->stop();
  EXPECT_TRUE(console_.questions.empty());
}

TEST_F(CeremonyCommandTest, EnrollCreatesTheCredentialHereWithOneTouch) {
  Json begin;
  Json finish;
  auto daemon = listening_daemon([&](DaemonConnection& d) {
    begin = d.next_json();
    ipc::EnrollOffer offer;
    offer.ceremony = Bytes(ipc::kCeremonyIdBytes, 4);
    offer.expires_in = 60;
    offer.rp_id = "touchpass";
    offer.user_id = Bytes(16, 5);
    offer.user_name = "alice";
    offer.origin = "touchpass";
    offer.challenge = Bytes(32, 6);
    offer.user_verification = false;
    d.ok(offer.to_json());
    finish = d.next_json();
    d.ok({{"token", {{"label", 42}, {"uv", Json::array()}}}});  // odd fields are tolerated
  });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  type_on_stdin("1234\n");
  EXPECT_EQ(run(*daemon, {"enroll", "--label", "backup", "--no-pin", "--pin-stdin"}), 0)
      << console_.err_text;
  daemon->stop();
  EXPECT_EQ(begin,
            Json({{"v", 1}, {"op", "enroll-begin"}, {"label", "backup"}, {"uv", "presence"}}));
  EXPECT_EQ(finish["op"], "finish");
  EXPECT_EQ(finish["attestation_format"], "packed");
  EXPECT_NE(finish["client_data_json"].get<std::string>().find("webauthn.create"),
            std::string::npos);
  EXPECT_EQ(occurrences(console_.err_text, "Touch your security key"), 1);
  EXPECT_EQ(console_.out_text, "Enrolled \"security key\" (PIN and touch).\n");
}

TEST_F(CommandTest, InvitePrintsTheLinkAndTheCode) {
  auto daemon = listening_daemon([](DaemonConnection& d) {
    EXPECT_EQ(d.next_json(),
              Json({{"v", 1}, {"op", "invite"}, {"user", "bob"}, {"expires", kNow + 7 * 86400}}));
    d.ok({{"user", "bob"}, {"expires", kNow + 7 * 86400}, {"origin", "https://mail.example.test"}},
         "d9tn-8rp3-n70q-kcw9-nvpp");
  });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(run(*daemon, {"invite", "--user", "bob", "--expires", "7d"}), 0) << console_.err_text;
  daemon->stop();
  EXPECT_NE(console_.out_text.find("Invitation for bob, single use, valid until"),
            std::string::npos)
      << console_.out_text;
  EXPECT_NE(
      console_.out_text.find("  https://mail.example.test/#invite=d9tn-8rp3-n70q-kcw9-nvpp\n"),
      std::string::npos)
      << console_.out_text;
  EXPECT_NE(console_.out_text.find("or enter the code d9tn-8rp3-n70q-kcw9-nvpp on "
                                   "https://mail.example.test."),
            std::string::npos)
      << console_.out_text;
}

TEST_F(CommandTest, InviteAsJsonCarriesTheCode) {
  auto daemon = listening_daemon([](DaemonConnection& d) {
    EXPECT_EQ(d.next_json(), Json({{"v", 1}, {"op", "invite"}, {"expires", kNow + 86400}}));
    d.ok({{"user", "alice"}, {"expires", kNow + 86400}, {"origin", "https://mail.example.test"}},
         "d9tn-8rp3-n70q-kcw9-nvpp");
  });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(run(*daemon, {"invite", "--json"}), 0) << console_.err_text;
  daemon->stop();
  const Json printed = Json::parse(console_.out_text);
  EXPECT_EQ(printed.at("code"), "d9tn-8rp3-n70q-kcw9-nvpp");
  EXPECT_EQ(printed.at("user"), "alice");
}

TEST_F(CommandTest, InviteRefusesAHostileAnswerAndANeverExpiry) {
  auto daemon = listening_daemon([](DaemonConnection& d) {
    d.next_json();
    d.ok({{"user", "alice"}, {"expires", kNow + 86400}, {"origin", "javascript:alert(1)//"}},
         "d9tn-8rp3-n70q-kcw9-nvpp");
  });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_NE(run(*daemon, {"invite"}), 0);
  daemon->stop();
  EXPECT_EQ(console_.out_text, "");
  EXPECT_NE(console_.err_text.find("malformed invitation"), std::string::npos) << console_.err_text;

  auto second = listening_daemon([](DaemonConnection& d) {
    d.next_json();
    d.ok({{"user", "alice"}, {"expires", kNow + 86400}, {"origin", "https://mail.example.test"}},
         "\x1b]52;c;evil\x07");
  });
  ASSERT_TRUE(second.ok());
  EXPECT_NE(run(*second, {"invite"}), 0);
  second->stop();
  EXPECT_EQ(console_.out_text.find("\x1b"), std::string::npos);
}

// A `log --verify` answer with no entries: the chain's verdict, and `proofs_failed` of two grant
// proofs failing as `proof_errors` says (no shows).
Json verified_log(bool chain_ok, int proofs_failed, Json proof_errors = Json::array()) {
  return {{"entries", Json::array()},
          {"chain_ok", chain_ok},
          {"proofs_checked", 2},
          {"proofs_failed", proofs_failed},
          {"proof_errors", proof_errors},
          {"shows_checked", 0},
          {"shows_failed", 0},
          {"show_errors", Json::array()},
          {"shows_unchecked", 0}};
}

// One failed proof of alice's grant `name`, as the daemon lists it.
Json alice_proof_error(const std::string& name) {
  return Json::array(
      {{{"user", "alice"}, {"name", name}, {"error", "The key's signature does not verify."}}});
}

int CommandTest::run_log_verify(const Json& answer) {
  auto daemon = listening_daemon([answer](DaemonConnection& d) {
    d.next_json();
    d.ok(answer);
  });
  EXPECT_TRUE(daemon.ok()) << daemon.error().message;
  if (!daemon.ok()) return -1;
  const int status = run(*daemon, {"log", "--verify"});
  daemon->stop();
  return status;
}

TEST_F(CommandTest, LogVerifyFailsOnABrokenChainAndSaysWhere) {
  auto daemon = listening_daemon([](DaemonConnection& d) {
    EXPECT_EQ(d.next_json(), Json({{"v", 1}, {"op", "log"}, {"limit", 5}, {"verify", true}}));
    Json answer = verified_log(false, 0);
    answer["chain_error"] = "Audit entry 4 has been altered or forged.\u001b[2J";
    d.ok(answer);
  });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(run(*daemon, {"log", "--limit", "5", "--verify"}), 1);
  daemon->stop();
  EXPECT_NE(console_.err_text.find("The audit log's hash chain is broken. Audit entry 4 has been "
                                   "altered or forged.?[2J"),
            std::string::npos)
      << console_.err_text;
  EXPECT_EQ(console_.err_text.find("intact"), std::string::npos);
}

TEST_F(CommandTest, LogVerifyWithABrokenChainStillNamesProofsThatFail) {
  EXPECT_EQ(run_log_verify(verified_log(false, 1, alice_proof_error("mail"))), 1);
  EXPECT_NE(console_.err_text.find("The proof of \"mail\" (user alice) does not verify"),
            std::string::npos)
      << console_.err_text;
  EXPECT_NE(console_.err_text.find("hash chain is broken. An entry was changed or removed. 1 app "
                                   "password(s)"),
            std::string::npos)
      << console_.err_text;
}

TEST_F(CommandTest, LogVerifyFailsOnAProofThatDoesNotVerifyAndNamesIt) {
  EXPECT_EQ(run_log_verify(verified_log(true, 1, alice_proof_error("mail\u009b2J"))), 1);
  EXPECT_NE(console_.err_text.find("The proof of \"mail?2J\" (user alice) does not verify"),
            std::string::npos)
      << console_.err_text;
  EXPECT_NE(console_.err_text.find("1 app password(s)"), std::string::npos);
}

TEST_F(CommandTest, LogVerifyFailsOnAShowWhoseProofDoesNotVerifyAndNamesIt) {
  Json answer = verified_log(true, 0);
  answer["shows_checked"] = 2;
  answer["shows_failed"] = 1;
  answer["show_errors"] = Json::array({{{"user", "alice"},
                                        {"name", "mail"},
                                        {"seq", 7},
                                        {"error", "The key's signature does not verify."}}});
  EXPECT_EQ(run_log_verify(answer), 1);
  EXPECT_NE(console_.err_text.find("The proof of the show of \"mail\" (user alice, audit entry 7) "
                                   "does not verify: The key's signature does not verify."),
            std::string::npos)
      << console_.err_text;
  EXPECT_NE(console_.err_text.find("1 show(s) of app passwords have a proof that does not verify"),
            std::string::npos)
      << console_.err_text;
}

TEST_F(CommandTest, LogVerifySaysHowManyProofsVerify) {
  auto daemon = listening_daemon([](DaemonConnection& d) {
    d.next_json();
    d.ok({{"entries", Json::array()},
          {"chain_ok", true},
          {"proofs_checked", 3},
          {"proofs_failed", 0},
          {"proof_errors", Json::array()},
          {"shows_checked", 5},
          {"shows_failed", 0},
          {"show_errors", Json::array()},
          {"shows_unchecked", 1}});
  });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(run(*daemon, {"log", "--verify"}), 0);
  daemon->stop();
  EXPECT_NE(
      console_.err_text.find(
          "The proofs of 3 app password(s) and of 5 show(s) verify with their security keys."),
      std::string::npos)
      << console_.err_text;
  EXPECT_NE(console_.err_text.find("1 show(s) from before touchpass kept show proofs"),
            std::string::npos)
      << console_.err_text;
}

TEST_F(CommandTest, LogVerifyRefusesAnAnswerWithoutTheShowsCounts) {
  auto daemon = listening_daemon([](DaemonConnection& d) {
    d.next_json();
    d.ok({{"entries", Json::array()},
          {"chain_ok", true},
          {"proofs_checked", 3},
          {"proofs_failed", 0},
          {"proof_errors", Json::array()}});
  });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_NE(run(*daemon, {"log", "--verify"}), 0);
  daemon->stop();
  EXPECT_NE(console_.err_text.find("malformed answer (no show_errors)"), std::string::npos)
      << console_.err_text;
}

TEST_F(CommandTest, UnlockSendsWhatToUnlockAndSaysHowMany) {
  Json request;
  auto daemon = listening_daemon([&request](DaemonConnection& d) {
    request = d.next_json();
    d.ok({{"unlocked", 2}});
  });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(run(*daemon, {"unlock", "--user", "alice"}), 0);
  daemon->stop();
  EXPECT_EQ(request["op"], "unlock");
  EXPECT_EQ(request["user"], "alice");
  EXPECT_FALSE(request.contains("source"));
  EXPECT_EQ(console_.out_text, "Unlocked 2 sources.\n");
}

TEST_F(CommandTest, UnlockWithoutWhatToUnlockIsAUsageError) {
  auto daemon = listening_daemon([](DaemonConnection&) {});
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(run(*daemon, {"unlock"}), 2);
  EXPECT_EQ(run(*daemon, {"unlock", "--source", "192.0.2.7", "--all"}), 2);
  daemon->stop();
  EXPECT_NE(console_.err_text.find("--source ADDRESS, --user NAME or --all"), std::string::npos)
      << console_.err_text;
}

}  // namespace
}  // namespace touchpass::cli
