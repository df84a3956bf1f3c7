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

}  // namespace
}  // namespace touchpass::testing
