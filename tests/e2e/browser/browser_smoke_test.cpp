// The self-service page in a real headless Chromium, served by the real touchpass-web over TLS
// at https://mail.example.test:<port>/ (a certificate for that name, accepted by its key hash
// only), with a DevTools virtual authenticator as the key. No touchpassd runs: the page must say
// so. The page's own WebAuthn code (webauthn.js, cbor.js) is run against the virtual
// authenticator. Skips itself when Chromium (Debian's package `chromium`) is not installed.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "e2e/browser/host_certificate.h"
#include "integration/web/web_process.h"
#include "support/chromium.h"
#include "support/virtual_token.h"

namespace touchpass::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr const char* kHost = "mail.example.test";

// A security key as the page needs it: CTAP 2.1 over USB with a PIN (already verified) and the
// PRF extension (hmac-secret), touched at once.
Json virtual_key_options() {
  return {{"protocol", "ctap2"},    {"ctap2Version", "ctap2_1"},          {"transport", "usb"},
          {"hasResidentKey", true}, {"hasUserVerification", true},        {"isUserVerified", true},
          {"hasPrf", true},         {"automaticPresenceSimulation", true}};
}

class BrowserSmoke : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Chromium::program().empty()) {
      GTEST_SKIP() << "Chromium is not installed (/usr/bin/chromium; .ci/install-deps --tests "
                      "installs Debian's package chromium)";
    }
    const auto certificate = HostCertificate::make(dir_.path(), kHost);
    ASSERT_TRUE(certificate) << "openssl could not make a certificate for " << kHost;
    const fs::path config = dir_.path() / "web.conf";
    std::ofstream(config) << "listen = 127.0.0.1:0\n"
                          << "tls_certificate = " << certificate->certificate.string() << "\n"
                          << "tls_key = " << certificate->key.string() << "\n"
                          << "static_dir = " << TOUCHPASS_WEB_STATIC_DIR << "\n"
                          << "daemon_socket = " << (dir_.path() / "touchpassd.sock").string()
                          << "\n";
    std::string error;
    web_ = WebProcess::start(TOUCHPASS_WEB_PROGRAM, config, &error);
    ASSERT_TRUE(web_) << error;
    const std::string port = web_->base_url().substr(web_->base_url().rfind(':') + 1);
    page_url_ = "https://" + std::string(kHost) + ":" + port + "/";

    Chromium::Options options;
    options.host_resolver_rules = "MAP " + std::string(kHost) + " 127.0.0.1";
    options.trusted_spki_hash = certificate->spki_sha256;
    browser_ = Chromium::start(options, &error);
    ASSERT_TRUE(browser_) << error;
    page_ = browser_->open_page(&error);
    ASSERT_FALSE(page_.empty()) << error;
  }

  void TearDown() override {
    if (!web_) return;
    EXPECT_TRUE(web_->running()) << "touchpass-web stopped:\n" << web_->output();
    const int status = web_->terminate();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << web_->output();
  }

  // Opens the page (with `fragment`) and waits until it has shown its first view
  // (<html data-ready="true">).
  void open(const std::string& fragment = "") {
    const std::string failed = browser_->navigate(page_, page_url_ + fragment);
    ASSERT_TRUE(failed.empty()) << failed << "\nChromium:\n" << browser_->output();
    const CdpAnswer ready = browser_->evaluate(page_, R"(new Promise((resolve) => {
      const check = () => document.documentElement.dataset.ready === "true"
          ? resolve(true) : setTimeout(check, 20);
      check();
    }))");
    ASSERT_TRUE(ready.ok()) << ready.error;
  }

  // The value of `expression` in the page; a failed evaluation fails the test.
  Json value(const std::string& expression) {
    const CdpAnswer answer = browser_->evaluate(page_, expression);
    EXPECT_TRUE(answer.ok()) << expression << ": " << answer.error;
    return answer.result.value("value", Json());
  }

  // Whether the element `id` is laid out (not display: none, e.g. through [hidden]).
  bool shown(const std::string& id) {
    return value("getComputedStyle(document.getElementById('" + id + "')).display !== 'none'") ==
           true;
  }

  std::string text(const std::string& id) {
    const Json t = value("document.getElementById('" + id + "').textContent");
    return t.is_string() ? t.get<std::string>() : std::string();
  }

  // Exceptions, console errors and browser log errors (CSP violations among them) so far;
  // failed requests ("network" entries: the API's 404 and 503 answers) are expected here.
  std::vector<std::string> page_errors() const {
    std::vector<std::string> errors;
    for (const CdpEvent& e : browser_->events()) {
      if (e.method == "Runtime.exceptionThrown") {
        errors.push_back("exception: " + e.params.dump());
      } else if (e.method == "Runtime.consoleAPICalled" && e.params.value("type", "") == "error") {
        errors.push_back("console.error: " + e.params.dump());
      } else if (e.method == "Log.entryAdded") {
        const Json entry = e.params.value("entry", Json::object());
        if (entry.value("level", "") == "error" && entry.value("source", "") != "network") {
          errors.push_back("log: " + entry.dump());
        }
      }
    }
    return errors;
  }

  TempDir dir_;
  std::unique_ptr<WebProcess> web_;
  std::unique_ptr<Chromium> browser_;
  std::string page_;
  std::string page_url_;
};

TEST_F(BrowserSmoke, ThePageLoadsWithoutErrorsAndSaysTheServiceIsUnavailable) {
  ASSERT_NO_FATAL_FAILURE(open());

  EXPECT_EQ(value("window.isSecureContext"), true);
  EXPECT_EQ(value("location.hostname"), kHost);
  EXPECT_TRUE(shown("signin-view"));
  EXPECT_FALSE(shown("enroll-view"));
  EXPECT_FALSE(shown("signed-in-view"));
  EXPECT_FALSE(shown("loading"));
  EXPECT_TRUE(shown("signin-user"));
  EXPECT_EQ(text("signin-button"), "Sign in with your security key");
  EXPECT_TRUE(shown("alert"));
  EXPECT_NE(text("alert").find("The touchpass service is unavailable right now."),
            std::string::npos)
      << text("alert");

  const std::vector<std::string> errors = page_errors();
  EXPECT_TRUE(errors.empty()) << ::testing::PrintToString(errors);
  const fs::path shot = fs::path(TOUCHPASS_TEST_OUTPUT_DIR) / "browser_smoke_signin.png";
  const std::string failed = browser_->screenshot(page_, shot);
  EXPECT_TRUE(failed.empty()) << failed;
  EXPECT_GT(fs::file_size(shot), 1000u);
}

TEST_F(BrowserSmoke, AnInvitationOpensTheEnrollViewAndLeavesTheAddressBar) {
  ASSERT_NO_FATAL_FAILURE(open("#invite=abcd-efgh-jkmn"));
  EXPECT_TRUE(shown("enroll-view"));
  EXPECT_FALSE(shown("signin-view"));
  EXPECT_EQ(text("enroll-button"), "Add your security key");
  EXPECT_EQ(value("location.hash"), "");
  EXPECT_EQ(value("location.href"), page_url_);
}

TEST_F(BrowserSmoke, ThePagesWebAuthnCodeGetsPrfResultsFromTheVirtualKey) {
  const CdpAnswer key = browser_->add_virtual_authenticator(page_, virtual_key_options());
  ASSERT_TRUE(key.ok()) << key.error;
  ASSERT_FALSE(key.result.value("authenticatorId", "").empty());
  ASSERT_NO_FATAL_FAILURE(open());
  EXPECT_EQ(value("typeof PublicKeyCredential"), "function");

  // An EnrollOffer as touchpassd makes one for this host; the page's code creates the key and
  // takes the attestation object apart (cbor.js).
  const Json enrolled = value(R"((async () => {
    const b64 = TouchpassWebAuthn.toBase64url;
    const offer = {ceremony: "AAAAAAAAAAAAAAAAAAAAAA", kind: "fido2", rp_id: location.hostname,
      rp_name: "touchpass", user_id: b64(new Uint8Array(16).fill(7)), user_name: "alice",
      origin: location.origin, challenge: b64(new Uint8Array(32).fill(1)), uv: true};
    const fields = await TouchpassWebAuthn.enroll(offer);
    const client = JSON.parse(new TextDecoder().decode(
        TouchpassWebAuthn.fromBase64url(fields.client_data_json)));
    return {fields, client};
  })())");
  ASSERT_TRUE(enrolled.is_object()) << enrolled.dump();
  const Json& fields = enrolled["fields"];
  EXPECT_FALSE(fields.value("credential", "").empty());
  EXPECT_FALSE(fields.value("authenticator_data", "").empty());
  EXPECT_FALSE(fields.value("signature", "").empty());
  EXPECT_EQ(fields.value("attestation_format", ""), "packed");
  EXPECT_EQ(fields.value("device", ""), "browser");
  EXPECT_EQ(enrolled["client"].value("type", ""), "webauthn.create");
  EXPECT_EQ(enrolled["client"].value("challenge", ""),
            "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE");
  EXPECT_EQ(enrolled["client"].value("origin", ""), page_url_.substr(0, page_url_.size() - 1));

  // Two assertions with the same PRF input give the same 32-byte S; another input another S.
  const Json secrets = value(R"((async () => {
    const b64 = TouchpassWebAuthn.toBase64url;
    const ask = (credential, input, challenge) => TouchpassWebAuthn.assert(
      {ceremony: "AAAAAAAAAAAAAAAAAAAAAA", prf_input: b64(new TextEncoder().encode(input))},
      {kind: "fido2", credential, rp_id: location.hostname, uv: true,
       challenge: b64(new Uint8Array(32).fill(challenge))});
    const credential = ")" + fields.value("credential", "") +
                             R"(";
    const a = await ask(credential, "touchpass/v2/salt one", 2);
    const b = await ask(credential, "touchpass/v2/salt one", 3);
    const c = await ask(credential, "touchpass/v2/salt two", 4);
    return [a.secret, b.secret, c.secret, a.client_data_json, a.credential];
  })())");
  ASSERT_TRUE(secrets.is_array() && secrets.size() == 5) << secrets.dump();
  EXPECT_EQ(secrets[0].get<std::string>().size(), 43u);  // 32 bytes in base64url
  EXPECT_EQ(secrets[0], secrets[1]);
  EXPECT_NE(secrets[0], secrets[2]);
  EXPECT_EQ(secrets[4], fields["credential"]);

  const std::vector<std::string> errors = page_errors();
  EXPECT_TRUE(errors.empty()) << ::testing::PrintToString(errors);
}

}  // namespace
}  // namespace touchpass::testing
