// App passwords issued on the web log in to a real Dovecot (the fixture of dovecot_test.cpp):
// touchpass-web (as nobody, in touchpassd's gateway group) relays a web user's enrollment and
// issue; the password then opens the user's IMAP mailbox through pam_touchpass.so, and after it
// is revoked on the web it does not. The first key here is enrolled with the account password
// (first_key_pam_service, a PAM service with pam_unix that the test installs), which is off
// unless the admin names a service.
#include <gtest/gtest.h>

#include <fstream>

#include "core/bytes.h"
#include "dovecot_fixture.h"
#include "e2e/browser/host_certificate.h"
#include "e2e/browser/page_fixture.h"
#include "web_stack.h"

namespace touchpass::testing {
namespace {

class DovecotWebTest : public DovecotTest {
 protected:
  void SetUp() override {
    DovecotTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // The PAM service an admin would name: the account's Unix password (touchpassd runs as
    // root in the test; see touchpassd.conf for what that means in a packaged deployment).
    account_service_ = pam_prefix_ + "account";
    const fs::path file = fs::path("/etc/pam.d") / account_service_;
    pam_files_.push_back(file);
    std::ofstream(file) << "# touchpass end-to-end test; removed when the test ends\n"
                           "auth required pam_unix.so\n"
                           "account required pam_unix.so\n";
    deployment_->add_config("first_key_pam_service = " + account_service_ + "\n");
    std::string error;
    web_ = WebStack::start_over(*deployment_, &error);
    ASSERT_TRUE(web_) << error;
  }

  // Enrolls the virtual token for `user` with the account password `password` as `client`.
  ApiReply enroll_with_password(WebClient& client, const std::string& user,
                                const std::string& password) {
    return web_->ceremony(client, "enroll",
                          {{"user", user}, {"password", password}, {"label", "web key"}});
  }

  std::string account_service_;
  std::unique_ptr<WebStack> web_;
};

TEST_F(DovecotWebTest, APasswordIssuedOnTheWebLogsInOverImapUntilItIsRevoked) {
  WebClient browser = web_->new_client("alice");
  // A wrong account password enrolls nothing.
  const ApiReply wrong = enroll_with_password(browser, alice_.name, "not-" + alice_.unix_password);
  EXPECT_EQ(wrong.code(), "refused") << wrong.http.body;
  EXPECT_EQ(web_->call(browser, "tokens").code(), "not_found");  // no session

  const ApiReply enrolled = enroll_with_password(browser, alice_.name, alice_.unix_password);
  ASSERT_TRUE(enrolled.ok()) << enrolled.http.body << deployment_->daemon_log();
  EXPECT_EQ(enrolled.result().at("user"), alice_.name);

  const ApiReply issued =
      web_->ceremony(browser, "issue", {{"name", "thunderbird"}, {"scopes", {"imap"}}});
  ASSERT_TRUE(issued.ok()) << issued.http.body;
  const auto secret = from_base64url(issued.result().value("secret", ""));
  ASSERT_TRUE(secret);
  const std::string password(secret->begin(), secret->end());
  EXPECT_EQ(imap_login(alice_.name, password), 0) << dovecot_log();
  EXPECT_EQ(imap_login(alice_.name, alice_.unix_password), kCurlLoginDenied);

  ASSERT_TRUE(web_->call(browser, "revoke", {{"name", "thunderbird"}}).ok());
  EXPECT_EQ(imap_login(alice_.name, password), kCurlLoginDenied);

  // The account password enrolls a first key only: Alice has one now.
  WebClient other = web_->new_client("other");
  EXPECT_EQ(enroll_with_password(other, alice_.name, alice_.unix_password).code(),
            "permission_denied");
}

// The same through the page in a real browser: headless Chromium whose DevTools virtual
// authenticator (CTAP 2.1, hmac-secret, PIN verified) is the user's key, on
// https://mail.example.test:PORT with the server's self-signed certificate trusted by its key.
class DovecotBrowserTest : public DovecotWebTest, protected BrowserPage {
 protected:
  void SetUp() override {
    DovecotWebTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (Chromium::program().empty()) {
      GTEST_SKIP() << "Chromium is not installed (.ci/install-deps --tests installs chromium)";
    }
    page_url_ = web_->origin() + "/";
    spki_hash_ = HostCertificate::spki_sha256_of(web_->certificate().certificate);
    ASSERT_FALSE(spki_hash_.empty());
    start_browser();
  }
};

TEST_F(DovecotBrowserTest, AnInvitedUserGetsAPasswordOnThePageThatLogsInUntilRevoked) {
  const std::string code = web_->invite(alice_.name);
  ASSERT_FALSE(code.empty()) << deployment_->daemon_log();
  ASSERT_TRUE(browser_->add_virtual_authenticator(page_, virtual_key_options()).ok());
  ASSERT_NO_FATAL_FAILURE(open("#invite=" + code));
  ASSERT_TRUE(shown("enroll-view"));
  ASSERT_NO_FATAL_FAILURE(screenshot("1-invitation"));

  type("enroll-label", "laptop key");
  click("enroll-button");
  ASSERT_NO_FATAL_FAILURE(wait_for("signed-in-view"));
  EXPECT_EQ(text("user-name"), alice_.name);

  type("issue-name", "thunderbird");
  check("issue-scope-imap");  // not every service: IMAP only
  ASSERT_NO_FATAL_FAILURE(screenshot("2-signed-in"));
  click("issue-button");
  ASSERT_NO_FATAL_FAILURE(wait_for("password-panel"));
  const std::string password = text("password-text");
  ASSERT_EQ(password.size(), 24u) << password;
  ASSERT_NO_FATAL_FAILURE(screenshot("3-password-shown-once"));
  EXPECT_EQ(imap_login(alice_.name, password), 0) << dovecot_log();
  EXPECT_EQ(pop3_login(alice_.name, password), kCurlLoginDenied);  // the scope chosen on the page
  click("done-button");

  ASSERT_NO_FATAL_FAILURE(wait_until("document.getElementById('show-thunderbird') !== null"));
  click("show-thunderbird");
  ASSERT_NO_FATAL_FAILURE(wait_for("password-panel"));
  EXPECT_EQ(text("password-text"), password);
  click("done-button");
  ASSERT_NO_FATAL_FAILURE(
      wait_until("document.querySelectorAll('#grants-body tr[data-name]').length === 1"));
  ASSERT_NO_FATAL_FAILURE(screenshot("4-list"));

  ASSERT_NO_FATAL_FAILURE(
      confirm_revoke("revoke-thunderbird", [this] { screenshot("5-revoke-confirm"); }));
  EXPECT_EQ(imap_login(alice_.name, password), kCurlLoginDenied);
  ASSERT_NO_FATAL_FAILURE(screenshot("6-revoked"));

  const std::vector<std::string> errors = page_errors();
  EXPECT_TRUE(errors.empty()) << ::testing::PrintToString(errors);
}

TEST_F(DovecotBrowserTest, AKeyWithoutHmacSecretGetsTheSentenceAndNothingIsEnrolled) {
  const std::string code = web_->invite(alice_.name);
  ASSERT_FALSE(code.empty());
  nlohmann::json options = virtual_key_options();
  options["hasHmacSecret"] = false;
  ASSERT_TRUE(browser_->add_virtual_authenticator(page_, options).ok());
  ASSERT_NO_FATAL_FAILURE(open("#invite=" + code));
  click("enroll-button");
  ASSERT_NO_FATAL_FAILURE(wait_until("!document.getElementById('alert').hidden"));
  EXPECT_NE(text("alert").find("does not support the PRF (hmac-secret) extension"),
            std::string::npos)
      << text("alert");
  ASSERT_NO_FATAL_FAILURE(screenshot("7-no-prf"));
  // The invitation is still good: nothing was stored.
  WebClient later = web_->new_client("later");
  EXPECT_TRUE(web_->ceremony(later, "enroll", {{"invitation", code}}).ok());
}

}  // namespace
}  // namespace touchpass::testing
