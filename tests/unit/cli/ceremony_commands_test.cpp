// issue, show and enroll with a real key (the virtual token through libfido2) against a scripted
// daemon: the password printed once, networks, expiry, the phone's QR code, --json, PIN
// prompts, malformed passwords, --copy with fake clipboard tools, short options.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "support/qr_reader.h"

#include "cli/exit_code.h"
#include "command_fixture.h"

namespace touchpass::cli {
namespace {

using namespace testing;

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

}  // namespace
}  // namespace touchpass::cli
