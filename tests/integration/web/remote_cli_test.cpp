// `touchpass --server`: the CLI as a separate program, driving the virtual token on "this
// computer" and talking HTTPS to the real touchpass-web, which relays to the real touchpassd.
//
// The processes: touchpassd and the virtual token (daemon_harness.h), touchpass-web started as
// nobody:nogroup (touchpassd takes the gateway's requests only from a non-root member of its
// gateway_group, here nogroup), listening on 127.0.0.1 with a self-signed certificate the test
// makes for 127.0.0.1, and the touchpass CLI run by the test (as root, which changes nothing
// for a remote command: the server knows the user by the key).
//
// The origin: touchpassd's web_origin is https://localhost:PORT (a WebAuthn relying-party id
// cannot be an IP address: keys enrolled through the web get "localhost"), and the CLI is told
// --server https://localhost:PORT, which resolves to the loopback. The certificate names
// 127.0.0.1, not localhost: the CLI trusts it only through --server-pin, which replaces the CA
// and host-name checks (and a wrong pin is refused). PORT is the one touchpass-web chose, so it
// starts first; touchpassd, which touchpass-web reaches per request, starts once it is known.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "daemon/daemon_harness.h"
#include "integration/web/web_process.h"
#include "support/virtual_token.h"

namespace touchpass::testing {
namespace {

using namespace std::chrono_literals;
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
      GTEST_SKIP() << "needs root: touchpass-web must run as nobody:nogroup, the gateway group";
    }
    // Everything touchpass-web reads must be reachable by nobody.
    ::chmod(dir_.path().c_str(), 0755);
    auto certificate = TestCertificate::make(dir_.path());
    ASSERT_TRUE(certificate) << "openssl could not make a test certificate";
    ASSERT_EQ(::chown(certificate->key.c_str(), kNobody, kNogroup), 0);
    pin_ = public_key_pin(certificate->certificate);
    ASSERT_FALSE(pin_.empty());
    fs::copy(TOUCHPASS_WEB_STATIC_DIR, dir_.path() / "static", fs::copy_options::recursive);
    const fs::path config = dir_.path() / "web.conf";
    std::ofstream(config) << "listen = 127.0.0.1:0\n"
                          << "tls_certificate = " << certificate->certificate.string() << "\n"
                          << "tls_key = " << certificate->key.string() << "\n"
                          << "static_dir = " << (dir_.path() / "static").string() << "\n"
                          << "daemon_socket = " << deployment_.socket().string() << "\n";
    ::chmod(config.c_str(), 0644);

    web_log_ = dir_.path() / "web.log";
    web_ = Process::start({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                           TOUCHPASS_WEB_PROGRAM, "--config", config.string()},
                          web_log_);
    const std::string port = wait_for_port();
    ASSERT_FALSE(port.empty()) << "touchpass-web did not start:\n" << read_file(web_log_);
    server_ = "https://localhost:" + port;

    std::ofstream(deployment_.config(), std::ios::app) << "web_origin = " << server_ << "\n"
                                                       << "gateway_group = nogroup\n";
    ASSERT_TRUE(deployment_.start_token());
    ASSERT_TRUE(deployment_.start_daemon()) << deployment_.daemon_log();
  }

  void TearDown() override {
    if (::geteuid() != 0) return;
    EXPECT_TRUE(web_.running()) << "touchpass-web stopped:\n" << read_file(web_log_);
  }

  // The port of the "listening on https://127.0.0.1:PORT" line touchpass-web writes once it
  // listens (waited for, at most 30 s); empty when it exits or never says so.
  std::string wait_for_port() {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline && web_.running()) {
      const std::string log = read_file(web_log_);
      const auto at = log.find("listening on https://127.0.0.1:");
      const auto end = at == std::string::npos ? at : log.find('\n', at);
      if (end != std::string::npos) {
        const auto colon = log.rfind(':', end);
        return log.substr(colon + 1, end - colon - 1);
      }
      std::this_thread::sleep_for(10ms);  // waiting for the line, not a timing assumption
    }
    return "";
  }

  // The CLI with `server` (and `pin`), this computer's virtual tokens, and no configuration file.
  CommandResult remote(std::vector<std::string> args, const std::string& input = "",
                       const std::string& server = "", const std::string& pin = "") {
    std::vector<std::string> argv = {TOUCHPASS_BINARY,
                                     "--server",
                                     server.empty() ? server_ : server,
                                     "--server-pin",
                                     pin.empty() ? pin_ : pin,
                                     "--virtual-tokens",
                                     deployment_.virtual_dir().string(),
                                     "--no-usb"};
    if (pin == "none") argv.erase(argv.begin() + 3, argv.begin() + 5);
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, input, std::nullopt, {xdg_config()});
  }

  // The CLI against touchpassd's socket, as root.
  CommandResult local(std::vector<std::string> args, const std::string& input = "") {
    auto argv = deployment_.cli();
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, input, std::nullopt, {xdg_config()});
  }

  std::string xdg_config() const { return "XDG_CONFIG_HOME=" + (dir_.path() / "xdg").string(); }

  // The daemon's verdict on `password` for imap: touchpass verify's exit status.
  int verify(const std::string& password) {
    return local({"verify", "--user", kUser, "--service", "imap"}, password + "\n").exit_code;
  }

  TempDir dir_;
  Deployment deployment_;
  Process web_;
  fs::path web_log_;
  std::string server_;
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
  EXPECT_NE(enrolled.err.find("Touch your security key to enroll it with localhost"),
            std::string::npos)
      << enrolled.err;
  EXPECT_EQ(enrolled.err.find("sign in"), std::string::npos) << enrolled.err;
  EXPECT_EQ(enrolled.out, "Enrolled \"laptop key\" (PIN and touch).\n");
  // An invitation is spent.
  auto again = remote({"enroll", "--invitation", code, "--pin-stdin"}, std::string(kPin) + "\n");
  EXPECT_NE(again.exit_code, 0);

  // Sign in (one touch, one PIN), then the issue's own ceremony (another of each).
  const std::string pins = std::string(kPin) + "\n" + kPin + "\n";
  auto issued = remote({"issue", "phone", "--scope", "imap", "--pin-stdin", "--user", kUser}, pins);
  ASSERT_EQ(issued.exit_code, 0) << issued.err;
  ASSERT_TRUE(std::regex_match(issued.out, kPassword)) << issued.out;
  const auto signed_in = issued.err.find("Touch your security key to sign in to localhost");
  const auto touched = issued.err.find("Touch your security key to issue \"phone\" on localhost");
  ASSERT_NE(signed_in, std::string::npos) << issued.err;
  ASSERT_NE(touched, std::string::npos) << issued.err;
  EXPECT_LT(signed_in, touched);
  EXPECT_NE(issued.err.find("Signed in to localhost as alice."), std::string::npos) << issued.err;
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
  EXPECT_EQ(Json::parse(tokens.out)["tokens"][0]["label"], "laptop key");

  EXPECT_EQ(verify(password), 0);
  auto revoked =
      remote({"revoke", "phone", "--pin-stdin", "--user", kUser}, std::string(kPin) + "\n");
  ASSERT_EQ(revoked.exit_code, 0) << revoked.err;
  EXPECT_EQ(revoked.out, "Revoked the app password \"phone\".\n");
  EXPECT_EQ(verify(password), 1);

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
  // The same server under another name: its offers name https://localhost:PORT.
  const std::string other_name = "https://127.0.0.1:" + server_.substr(server_.rfind(':') + 1);
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
