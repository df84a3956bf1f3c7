// `touchpass --server`: the CLI as a separate program, driving the virtual token on "this
// computer" and talking HTTPS to the real touchpass-web, which relays to the real touchpassd
// (web_stack.h: touchpass-web as nobody in touchpassd's gateway group, on 127.0.0.1 with a
// self-signed certificate, its origin https://mail.example.test:PORT).
//
// The CLI has no test-only way to resolve names: it runs in a mount namespace of its own
// (unshare -m) whose /etc/hosts maps mail.example.test to 127.0.0.1, so `--server
// https://mail.example.test:PORT` is exactly what a user types, and the origin it checks the
// offers against is touchpassd's web_origin. The certificate is trusted by --server-pin (no CA
// vouches for it); without the pin, or with another, the server is refused.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>

#include "daemon/daemon_harness.h"
#include "integration/web/web_stack.h"
#include "support/virtual_token.h"

namespace touchpass::testing {
namespace {

using Json = ipc::Json;

const std::regex kPassword("^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){4}\n$");
constexpr const char* kUser = "alice";
constexpr const char* kPin = "123456";

// "sha256//" and the base64 SHA-256 of the certificate's public key (SubjectPublicKeyInfo), as
// curl --pinnedpubkey takes it; empty if the certificate cannot be read.
std::string public_key_pin(const fs::path& certificate) {
  FILE* file = std::fopen(certificate.c_str(), "r");
  if (file == nullptr) return "";
  X509* x509 = PEM_read_X509(file, nullptr, nullptr, nullptr);
  std::fclose(file);
  if (x509 == nullptr) return "";
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(X509_get0_pubkey(x509), &der);
  X509_free(x509);
  if (length <= 0) return "";
  unsigned char hash[EVP_MAX_MD_SIZE];
  unsigned int hash_length = 0;
  const bool hashed = EVP_Digest(der, static_cast<std::size_t>(length), hash, &hash_length,
                                 EVP_sha256(), nullptr) == 1;
  OPENSSL_free(der);
  if (!hashed) return "";
  unsigned char base64[64] = {};
  const int n = EVP_EncodeBlock(base64, hash, static_cast<int>(hash_length));
  return "sha256//" + std::string(reinterpret_cast<char*>(base64), static_cast<std::size_t>(n));
}

class RemoteCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs root: touchpass-web runs as nobody:nogroup (the gateway group), and "
                      "the CLI in a mount namespace of its own";
    }
    std::string error;
    stack_ = WebStack::start(&error);
    ASSERT_TRUE(stack_) << error;
    server_ = stack_->origin();
    port_ = server_.substr(server_.rfind(':') + 1);
    pin_ = public_key_pin(stack_->certificate().certificate);
    ASSERT_FALSE(pin_.empty());
    std::ofstream(hosts_.path() / "hosts") << "127.0.0.1 localhost " << kWebHost << "\n";
  }

  void TearDown() override {
    if (stack_) {
      EXPECT_TRUE(stack_->web().running()) << stack_->web().output();
    }
  }

  // The CLI with `server` (default: the stack's origin) and `pin` ("none": no --server-pin), this
  // computer's virtual tokens and no configuration file, in a mount namespace whose /etc/hosts
  // names the web host.
  CommandResult remote(const std::vector<std::string>& args, const std::string& input = "",
                       const std::string& server = "", const std::string& pin = "") {
    std::vector<std::string> argv = {"/usr/bin/unshare",
                                     "-m",
                                     "/bin/sh",
                                     "-c",
                                     "mount --bind \"$0\" /etc/hosts && exec \"$@\"",
                                     (hosts_.path() / "hosts").string(),
                                     TOUCHPASS_BINARY,
                                     "--server",
                                     server.empty() ? server_ : server};
    if (pin != "none") argv.insert(argv.end(), {"--server-pin", pin.empty() ? pin_ : pin});
    argv.insert(argv.end(),
                {"--virtual-tokens", stack_->deployment().virtual_dir().string(), "--no-usb"});
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, input, std::nullopt, {xdg_config()});
  }

  // The CLI against touchpassd's socket, as root.
  CommandResult local(const std::vector<std::string>& args, const std::string& input = "") {
    auto argv = stack_->deployment().cli();
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, input, std::nullopt, {xdg_config()});
  }

  std::string xdg_config() const { return "XDG_CONFIG_HOME=" + (hosts_.path() / "xdg").string(); }

  TempDir hosts_;
  std::unique_ptr<WebStack> stack_;
  std::string server_;  // https://mail.example.test:PORT
  std::string port_;
  std::string pin_;
};

TEST_F(RemoteCli, InvitedEnrollmentThenIssueShowListRevokeThroughTheServer) {
  auto invited = local({"invite", "--user", kUser, "--json"});
  ASSERT_EQ(invited.exit_code, 0) << invited.err;
  const Json invitation = Json::parse(invited.out);
  ASSERT_EQ(invitation["origin"], server_);
  const std::string code = invitation["code"];

  // The code from standard input (not in the process list), then the key's PIN.
  auto enrolled = remote({"enroll", "--invitation", "-", "--label", "laptop key", "--pin-stdin"},
                         code + "\n" + kPin + "\n");
  ASSERT_EQ(enrolled.exit_code, 0) << enrolled.err;
  EXPECT_NE(enrolled.err.find("Touch your security key to enroll it with mail.example.test"),
            std::string::npos)
      << enrolled.err;
  EXPECT_EQ(enrolled.err.find("sign in"), std::string::npos) << enrolled.err;
  EXPECT_EQ(enrolled.out, "Enrolled \"laptop key\" (PIN and touch).\n");
  // An invitation is spent.
  auto again = remote({"enroll", "--invitation", code, "--pin-stdin"}, std::string(kPin) + "\n");
  EXPECT_NE(again.exit_code, 0);

  // Sign in (one touch, one PIN), then the command's own ceremony (another of each): here
  // another credential enrolled without an invitation.
  const std::string pins = std::string(kPin) + "\n" + kPin + "\n";
  auto second = remote({"enroll", "--label", "second key", "--pin-stdin", "--user", kUser}, pins);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.err.find("Touch your security key to sign in to mail.example.test"),
            std::string::npos)
      << second.err;
  EXPECT_EQ(second.out, "Enrolled \"second key\" (PIN and touch).\n");

  auto issued = remote({"issue", "phone", "--scope", "imap", "--pin-stdin", "--user", kUser}, pins);
  ASSERT_EQ(issued.exit_code, 0) << issued.err;
  ASSERT_TRUE(std::regex_match(issued.out, kPassword)) << issued.out;
  const auto signed_in = issued.err.find("Touch your security key to sign in to mail.example.test");
  const auto touched =
      issued.err.find("Touch your security key to issue \"phone\" on mail.example.test");
  ASSERT_NE(signed_in, std::string::npos) << issued.err;
  ASSERT_NE(touched, std::string::npos) << issued.err;
  EXPECT_LT(signed_in, touched);
  EXPECT_NE(issued.err.find("Signed in to mail.example.test as alice."), std::string::npos)
      << issued.err;
  EXPECT_EQ(issued.err.find("Could not sign out"), std::string::npos) << issued.err;
  const std::string password = issued.out.substr(0, issued.out.size() - 1);

  auto shown = remote({"show", "phone", "--pin-stdin", "--user", kUser}, pins);
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(shown.out, issued.out);

  auto listed =
      remote({"list", "--json", "--pin-stdin", "--user", kUser}, std::string(kPin) + "\n");
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const Json grants = Json::parse(listed.out)["grants"];
  ASSERT_EQ(grants.size(), 1u) << listed.out;
  EXPECT_EQ(grants[0]["name"], "phone");
  EXPECT_EQ(grants[0]["scopes"], Json({"imap"}));
  EXPECT_EQ(listed.out.find(password), std::string::npos);

  auto tokens =
      remote({"tokens", "--json", "--pin-stdin", "--user", kUser}, std::string(kPin) + "\n");
  ASSERT_EQ(tokens.exit_code, 0) << tokens.err;
  std::vector<std::string> labels;
  const Json token_list = Json::parse(tokens.out)["tokens"];
  for (const auto& token : token_list) labels.push_back(token.value("label", ""));
  EXPECT_EQ(labels, (std::vector<std::string>{"laptop key", "second key"})) << tokens.out;

  EXPECT_EQ(stack_->verify(kUser, password), "ok");
  auto revoked =
      remote({"revoke", "phone", "--pin-stdin", "--user", kUser}, std::string(kPin) + "\n");
  ASSERT_EQ(revoked.exit_code, 0) << revoked.err;
  EXPECT_EQ(revoked.out, "Revoked the app password \"phone\".\n");
  EXPECT_EQ(stack_->verify(kUser, password), "refused");

  auto log = remote({"log", "--json", "--pin-stdin", "--user", kUser}, std::string(kPin) + "\n");
  ASSERT_EQ(log.exit_code, 0) << log.err;
  std::vector<std::string> actions;
  const Json entries = Json::parse(log.out)["entries"];
  for (const auto& entry : entries) actions.push_back(entry.value("action", ""));
  EXPECT_NE(std::find(actions.begin(), actions.end(), "signin"), actions.end()) << log.out;
  EXPECT_NE(std::find(actions.begin(), actions.end(), "revoke"), actions.end()) << log.out;
}

TEST_F(RemoteCli, TheServerIsTrustedOnlyThroughItsPin) {
  // Without the pin the self-signed certificate is refused by the system's CAs.
  auto unpinned = remote({"list", "--user", kUser}, "", "", "none");
  EXPECT_EQ(unpinned.exit_code, 3) << unpinned.err;
  EXPECT_NE(unpinned.err.find("Cannot reach " + server_), std::string::npos) << unpinned.err;
  EXPECT_NE(unpinned.err.find("--server-pin"), std::string::npos) << unpinned.err;

  // A pin of another key is refused before anything is sent, host-name checks off or not.
  const std::string other = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  auto wrong = remote({"list", "--user", kUser}, "", "", other);
  EXPECT_EQ(wrong.exit_code, 3) << wrong.err;
  EXPECT_NE(wrong.err.find("its public key is not the one --server-pin names"), std::string::npos)
      << wrong.err;
}

TEST_F(RemoteCli, AServerAskingForAnotherOriginIsRefusedBeforeTheKeyIsTouched) {
  auto invited = local({"invite", "--user", kUser, "--json"});
  ASSERT_EQ(invited.exit_code, 0) << invited.err;
  const std::string code = Json::parse(invited.out)["code"];
  // The same server under another name: its offers name https://mail.example.test:PORT.
  const std::string other_name = "https://127.0.0.1:" + port_;
  auto enrolled =
      remote({"enroll", "--invitation", code, "--pin-stdin"}, std::string(kPin) + "\n", other_name);
  EXPECT_EQ(enrolled.exit_code, 4) << enrolled.err;
  EXPECT_NE(enrolled.err.find("asked your security key to sign for \"" + server_ + "\""),
            std::string::npos)
      << enrolled.err;
  EXPECT_EQ(enrolled.err.find("Touch your security key"), std::string::npos) << enrolled.err;
}

TEST_F(RemoteCli, LocalOnlyCommandsAreRefusedWithTheServer) {
  auto invite = remote({"invite", "--user", kUser});
  EXPECT_EQ(invite.exit_code, 2);
  EXPECT_NE(invite.err.find("without --server"), std::string::npos) << invite.err;
}

}  // namespace
}  // namespace touchpass::testing
