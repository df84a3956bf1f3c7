// The self-service page end to end: touchpassd, the virtual token and touchpass-web (as nobody,
// in touchpassd's gateway group) as on a server (tests/integration/web/web_stack.h), and headless
// Chromium whose DevTools virtual authenticator is the user's key. An invited user enrolls the
// key on the page, makes an app password that touchpassd then accepts, sees it again, revokes
// it (touchpassd refuses it from then on), signs out and signs in again. Needs root (touchpass-web
// runs as nobody) and Chromium; skips itself otherwise.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "e2e/browser/page_on_the_relay.h"

namespace touchpass::testing {
namespace {

TEST_F(PageOnTheRelay, InviteEnrollIssueShowRevokeSignOutAndSignIn) {
  const std::string code = stack_->invite("alice");
  ASSERT_FALSE(code.empty()) << stack_->deployment().daemon_log();
  ASSERT_TRUE(browser_->add_virtual_authenticator(page_, virtual_key_options()).ok());
  ASSERT_NO_FATAL_FAILURE(open("#invite=" + code));
  EXPECT_EQ(text("alert"), "");

  type("enroll-label", "browser key");
  click("enroll-button");
  ASSERT_NO_FATAL_FAILURE(wait_for("signed-in-view"));
  EXPECT_EQ(text("user-name"), "alice");
  ASSERT_NO_FATAL_FAILURE(wait_until("document.querySelectorAll('#tokens-body tr').length === 1"));

  type("issue-name", "thunderbird");
  check("issue-scope-all");
  click("issue-button");
  ASSERT_NO_FATAL_FAILURE(wait_for("password-panel"));
  const std::string password = text("password-text");
  EXPECT_EQ(password.size(), 24u) << password;
  EXPECT_EQ(stack_->verify("alice", password), "ok");
  click("done-button");
  EXPECT_EQ(text("password-text"), "");

  ASSERT_NO_FATAL_FAILURE(wait_until("document.getElementById('show-thunderbird') !== null"));
  click("show-thunderbird");
  ASSERT_NO_FATAL_FAILURE(wait_for("password-panel"));
  EXPECT_EQ(text("password-text"), password);
  click("done-button");

  ASSERT_NO_FATAL_FAILURE(confirm_revoke("revoke-thunderbird"));
  EXPECT_EQ(stack_->verify("alice", password), "refused");

  click("signout-button");
  ASSERT_NO_FATAL_FAILURE(wait_for("signin-view"));
  ASSERT_NO_FATAL_FAILURE(sign_in("alice"));

  const std::vector<std::string> errors = page_errors();
  EXPECT_TRUE(errors.empty()) << ::testing::PrintToString(errors);
}

}  // namespace
}  // namespace touchpass::testing
