// The self-service page's other flows end to end, on the fixture of page_e2e_test
// (page_on_the_relay.h: touchpassd, the virtual token and touchpass-web as on a server, headless
// Chromium with a DevTools virtual key): keys touchpass cannot use and keys that refuse store
// nothing and leave the invitation good; a sign-in offering a key enrolled elsewhere; scopes and
// expiry chosen on the page; a revoke after touchpass-web restarted (new CSRF key); another key
// and "revoke all" after a Cancel; a removed key signing out everywhere; a session touchpassd
// ended; a reload with an invitation in the
// address. What the page did is checked with touchpassd itself (verify, and an API client of the
// user's own signed in with the virtual token).
#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "e2e/browser/page_on_the_relay.h"

namespace touchpass::testing {
namespace {

using Json = nlohmann::json;

class PageFlows : public PageOnTheRelay {
 protected:
  // Issues the app password `name` for IMAP (the form's other fields as they are) on the page:
  // the password shown, after "Done" and once the list shows it.
  std::string issue_on_page(const std::string& name) {
    type("issue-name", name);
    check("issue-scope-imap");
    click_enabled("issue-button");
    wait_for("password-panel");
    if (HasFatalFailure()) return "";
    const std::string password = text("password-text");
    EXPECT_EQ(password.size(), 24u) << password;
    click("done-button");
    wait_until("document.getElementById('show-" + name + "') !== null");
    return password;
  }

  // An API client of alice's signed in through a new invitation with a key of the virtual
  // token (labelled "virtual key"), which the page's browser does not have.
  WebClient alice_elsewhere() {
    WebClient client = stack_->new_client("elsewhere");
    const std::string code = stack_->invite("alice");
    EXPECT_FALSE(code.empty());
    const ApiReply enrolled =
        stack_->ceremony(client, "enroll", {{"invitation", code}, {"label", "virtual key"}});
    EXPECT_TRUE(enrolled.ok()) << enrolled.http.body << stack_->deployment().daemon_log();
    return client;
  }

  // alice's keys as touchpassd lists them to `client`.
  Json keys(WebClient& client) {
    const ApiReply listed = stack_->call(client, "tokens");
    EXPECT_TRUE(listed.ok()) << listed.http.body;
    return listed.result().value("tokens", Json::array());
  }

  // The enrollment on the page from a new invitation failed with a sentence containing
  // `sentence`; the invitation is still good, and enrolling with it stores the only key.
  void expect_enrollment_failed(const std::string& code, const std::string& sentence) {
    ASSERT_NO_FATAL_FAILURE(wait_for_alert());
    EXPECT_NE(text("alert").find(sentence), std::string::npos) << text("alert");
    EXPECT_TRUE(shown("enroll-view"));
    EXPECT_FALSE(value("document.getElementById('enroll-button').disabled").get<bool>());
    WebClient later = stack_->new_client("later");
    const ApiReply enrolled = stack_->ceremony(later, "enroll", {{"invitation", code}});
    ASSERT_TRUE(enrolled.ok()) << enrolled.http.body;
    EXPECT_EQ(keys(later).size(), 1u) << keys(later).dump();
  }

  // Waits until the page's status is `status` or it reports an error; the error must be empty.
  void wait_for_status(const std::string& status) {
    ASSERT_NO_FATAL_FAILURE(
        wait_until("document.getElementById('status').textContent === " + Json(status).dump() +
                   " || !document.getElementById('alert').hidden"));
    ASSERT_EQ(text("alert"), "") << stack_->deployment().daemon_log();
  }
};

// Chromium's virtual key with CTAP's "prf" but not hmac-secret: the browser reports PRF, but the
// enrollment's authenticator data has no hmac-secret output, which touchpassd requires.
TEST_F(PageFlows, AKeyWithPrfButNoHmacSecretGetsTheSentenceAndNothingIsEnrolled) {
  Json options = virtual_key_options();
  options["hasHmacSecret"] = false;
  options["hasPrf"] = true;
  ASSERT_NO_FATAL_FAILURE(add_key(options));
  const std::string code = stack_->invite("alice");
  ASSERT_NO_FATAL_FAILURE(open("#invite=" + code));
  type("enroll-label", "old key");
  click("enroll-button");
  expect_enrollment_failed(code, "does not support the PRF (hmac-secret) extension");
}

TEST_F(PageFlows, AKeyThatRefusesGetsTheCancelledSentenceAndNothingIsStored) {
  Json options = virtual_key_options();
  options["isUserVerified"] = false;  // the PIN is never accepted
  ASSERT_NO_FATAL_FAILURE(add_key(options));
  const std::string code = stack_->invite("alice");
  ASSERT_NO_FATAL_FAILURE(open("#invite=" + code));
  click("enroll-button");
  expect_enrollment_failed(code, "The security key did not answer");
}

// touchpassd gives every credential of a sign-in one challenge; the page signs in with the key
// its browser has, not the other one.
TEST_F(PageFlows, SignsInWithItsOwnKeyWhenAnotherKeyIsEnrolledElsewhere) {
  ASSERT_NO_FATAL_FAILURE(add_key());
  ASSERT_NO_FATAL_FAILURE(enroll_on_page());
  WebClient elsewhere = alice_elsewhere();
  ASSERT_EQ(keys(elsewhere).size(), 2u) << keys(elsewhere).dump();

  click("signout-button");
  ASSERT_NO_FATAL_FAILURE(wait_for("signin-view"));
  ASSERT_NO_FATAL_FAILURE(sign_in("alice"));
  ASSERT_NO_FATAL_FAILURE(wait_until("document.querySelectorAll('#tokens-body tr').length === 2"));
  expect_no_page_errors();
}

TEST_F(PageFlows, IssuesWithItsOwnKeyWhenAnotherKeyCameFirst) {
  // Alice's first key is elsewhere (the virtual token, through the API); the page's key is her
  // second, so an issue's offer lists the other key first, each with its own challenge.
  WebClient elsewhere = alice_elsewhere();
  ASSERT_NO_FATAL_FAILURE(add_key());
  const std::string code = stack_->invite("alice");
  ASSERT_NO_FATAL_FAILURE(open("#invite=" + code));
  click("enroll-button");
  ASSERT_NO_FATAL_FAILURE(wait_for("signed-in-view"));
  ASSERT_EQ(keys(elsewhere).size(), 2u);
  const std::string password = issue_on_page("phone");
  EXPECT_EQ(stack_->verify("alice", password), "ok");
  expect_no_page_errors();
}

TEST_F(PageFlows, IssuesAPasswordForChosenServicesExpiringInNinetyDays) {
  ASSERT_NO_FATAL_FAILURE(emulate_phone());
  ASSERT_NO_FATAL_FAILURE(add_key());
  ASSERT_NO_FATAL_FAILURE(enroll_on_page());
  type("issue-name", "phone");
  check("issue-scope-imap");
  check("issue-scope-smtp");
  type("issue-expires", "90");
  const std::int64_t before = std::time(nullptr);
  click_enabled("issue-button");
  ASSERT_NO_FATAL_FAILURE(wait_for("password-panel"));
  const std::int64_t after = std::time(nullptr);
  const std::string password = text("password-text");
  EXPECT_EQ(text("password-name"), "phone");
  const std::vector<std::string> layout = layout_problems();
  EXPECT_TRUE(layout.empty()) << ::testing::PrintToString(layout);
  const std::string shot = browser_->screenshot(
      page_, std::filesystem::path(TOUCHPASS_TEST_OUTPUT_DIR) / "page_new_password.png");
  EXPECT_TRUE(shot.empty()) << shot;
  EXPECT_FALSE(shown("phone-panel"));
  click("done-button");
  EXPECT_EQ(text("password-text"), "");
  EXPECT_FALSE(shown("password-panel"));
  ASSERT_NO_FATAL_FAILURE(wait_until("document.getElementById('show-phone') !== null"));
  // Without mail settings in web.conf the page offers no phone setup.
  EXPECT_FALSE(shown("issue-phone-option"));
  EXPECT_TRUE(value("document.getElementById('phone-phone') === null").get<bool>());
  EXPECT_NE(value("document.querySelector('#grants-body tr').textContent")
                .get<std::string>()
                .find("imap, smtp"),
            std::string::npos);

  EXPECT_EQ(stack_->verify("alice", password, "imap"), "ok");
  EXPECT_EQ(stack_->verify("alice", password, "smtp"), "ok");
  EXPECT_EQ(stack_->verify("alice", password, "pop3"), "refused");
  WebClient elsewhere = alice_elsewhere();
  const ApiReply listed = stack_->call(elsewhere, "list");
  ASSERT_TRUE(listed.ok()) << listed.http.body;
  const Json grants = listed.result().value("grants", Json::array());
  ASSERT_EQ(grants.size(), 1u) << grants.dump();
  EXPECT_EQ(grants[0].value("name", ""), "phone");
  EXPECT_EQ(grants[0].value("scopes", Json()), (Json{"imap", "smtp"}));
  const std::int64_t expires = grants[0].value("expires", std::int64_t{0});
  constexpr std::int64_t kDay = 86400;  // the page counts days on its own clock
  EXPECT_GE(expires, before + 89 * kDay) << expires - before;
  EXPECT_LE(expires, after + 91 * kDay) << expires - after;
  expect_no_page_errors();
}

TEST_F(PageFlows, IssuesAPasswordUsableOnlyFromTheNetworksTyped) {
  ASSERT_NO_FATAL_FAILURE(add_key());
  ASSERT_NO_FATAL_FAILURE(enroll_on_page());
  // A network with host bits set is refused by name before the key is asked.
  type("issue-name", "office");
  check("issue-scope-imap");
  type("issue-networks", "192.168.1.7/24");
  click_enabled("issue-button");
  ASSERT_NO_FATAL_FAILURE(wait_for_alert());
  EXPECT_NE(text("alert").find("\"192.168.1.7/24\" has host bits set"), std::string::npos)
      << text("alert");
  EXPECT_FALSE(shown("password-panel"));

  type("issue-networks", " 192.168.0.0/16 ,2001:db8::/32, ");
  const std::string password = issue_on_page("office");
  EXPECT_EQ(stack_->verify("alice", password, "imap", "192.168.3.4"), "ok");
  EXPECT_EQ(stack_->verify("alice", password, "imap", "2001:db8::4"), "ok");
  EXPECT_EQ(stack_->verify("alice", password, "imap", "203.0.113.4"), "refused");
  EXPECT_EQ(stack_->verify("alice", password, "imap"), "refused");
  EXPECT_NE(value("document.querySelector('#grants-body tr').textContent")
                .get<std::string>()
                .find("192.168.0.0/16, 2001:db8::/32"),
            std::string::npos);
  // The form is cleared: the next password is usable from anywhere.
  EXPECT_EQ(value("document.getElementById('issue-networks').value"), "");
  EXPECT_EQ(stack_->verify("alice", issue_on_page("home"), "imap"), "ok");
  expect_no_page_errors();
}

// touchpass-web draws a new CSRF key when it starts: the page's token is refused (403), the
// page asks GET /api/v1/session for a new one and the revoke goes through.
TEST_F(PageFlows, RevokesAfterTouchpassWebRestarted) {
  ASSERT_NO_FATAL_FAILURE(add_key());
  ASSERT_NO_FATAL_FAILURE(enroll_on_page());
  const std::string password = issue_on_page("phone");
  ASSERT_EQ(stack_->verify("alice", password), "ok");
  std::string error;
  ASSERT_TRUE(stack_->restart_web(&error)) << error;
  ASSERT_EQ(stack_->origin() + "/", page_url());

  ASSERT_NO_FATAL_FAILURE(confirm_revoke("revoke-phone"));
  EXPECT_EQ(stack_->verify("alice", password), "refused");
  EXPECT_EQ(value("document.getElementById('revoke-phone')"), Json());
  EXPECT_TRUE(shown("grants-empty"));  // touchpassd lists no revoked password
  bool refused_once = false;           // the browser logs the 403 of the first try
  for (const CdpEvent& e : browser_->events()) {
    const Json entry = e.params.value("entry", Json::object());
    if (e.method == "Log.entryAdded" && entry.value("url", "").ends_with("/api/v1/revoke") &&
        entry.value("text", "").find("403") != std::string::npos) {
      refused_once = true;
    }
  }
  EXPECT_TRUE(refused_once) << "the old CSRF token was not refused";
  expect_no_page_errors();
}

TEST_F(PageFlows, AddsAnotherKeyAndRevokesAllAfterACancel) {
  ASSERT_NO_FATAL_FAILURE(add_key());
  ASSERT_NO_FATAL_FAILURE(enroll_on_page());
  const std::string laptop = issue_on_page("laptop");
  const std::string phone = issue_on_page("phone");

  // With the PIN: the deployment requires it (uv = required), the key has one.
  type("add-key-label", "spare key");
  click_enabled("add-key-button");
  ASSERT_NO_FATAL_FAILURE(wait_for_status("The key was added."));
  ASSERT_NO_FATAL_FAILURE(wait_until("document.querySelectorAll('#tokens-body tr').length === 2"));

  click_enabled("revoke-all-button");
  ASSERT_NO_FATAL_FAILURE(wait_until("document.getElementById('confirm-dialog').open"));
  click("confirm-no");
  ASSERT_NO_FATAL_FAILURE(wait_until("!document.getElementById('confirm-dialog').open"));
  EXPECT_EQ(stack_->verify("alice", laptop), "ok");
  EXPECT_EQ(stack_->verify("alice", phone), "ok");

  ASSERT_NO_FATAL_FAILURE(confirm_revoke("revoke-all-button"));
  EXPECT_EQ(text("status"), "Revoked 2 app passwords.");  // 2: the Cancel revoked nothing
  EXPECT_EQ(stack_->verify("alice", laptop), "refused");
  EXPECT_EQ(stack_->verify("alice", phone), "refused");
  EXPECT_FALSE(shown("revoke-all-button"));
  expect_no_page_errors();
}

// Removing a key (one that might have been stolen) ends every web session of its user, on
// this page and elsewhere; a key the user still has signs in again.
TEST_F(PageFlows, RemovingAKeySignsOutEverywhereAndAnotherKeySignsInAgain) {
  ASSERT_NO_FATAL_FAILURE(add_key());
  ASSERT_NO_FATAL_FAILURE(enroll_on_page());
  type("add-key-label", "spare key");
  click_enabled("add-key-button");
  ASSERT_NO_FATAL_FAILURE(wait_for_status("The key was added."));
  WebClient elsewhere = alice_elsewhere();
  ASSERT_EQ(keys(elsewhere).size(), 3u);

  click_enabled("revoke-key-spare%20key");
  ASSERT_NO_FATAL_FAILURE(wait_until("document.getElementById('confirm-dialog').open"));
  click("confirm-yes");
  ASSERT_NO_FATAL_FAILURE(
      wait_until("!document.getElementById('signin-view').hidden || "
                 "!document.getElementById('alert').hidden"));
  ASSERT_EQ(text("alert"), "");
  EXPECT_NE(text("status").find("you were signed out everywhere"), std::string::npos)
      << text("status");
  EXPECT_FALSE(shown("signed-in-view"));
  EXPECT_FALSE(stack_->call(elsewhere, "tokens").ok());  // that session ended too

  ASSERT_NO_FATAL_FAILURE(sign_in("alice"));
  ASSERT_NO_FATAL_FAILURE(wait_until("document.querySelectorAll('#tokens-body tr').length === 2"));
  expect_no_page_errors();
}

// Web sessions live in touchpassd's memory: a restart ends them.
TEST_F(PageFlows, ASessionTouchpassdEndedLeadsBackToSignIn) {
  ASSERT_NO_FATAL_FAILURE(add_key());
  ASSERT_NO_FATAL_FAILURE(enroll_on_page());
  stack_->deployment().stop_daemon();
  ASSERT_TRUE(stack_->deployment().start_daemon()) << stack_->deployment().daemon_log();

  click_enabled("log-refresh");
  ASSERT_NO_FATAL_FAILURE(
      wait_until("!document.getElementById('signin-view').hidden || "
                 "!document.getElementById('alert').hidden"));
  EXPECT_TRUE(shown("signin-view"));
  EXPECT_EQ(text("alert"), "Your session has ended; sign in again.");
  EXPECT_FALSE(shown("signed-in-view"));
  EXPECT_FALSE(shown("user-bar"));
  // The ended session's cookie (HttpOnly, its CSRF token gone) was cleared with that answer, so
  // signing in again works.
  ASSERT_NO_FATAL_FAILURE(sign_in("alice"));
}

TEST_F(PageFlows, AReloadedPageKeepsItsSessionAndIgnoresAnInvitation) {
  ASSERT_NO_FATAL_FAILURE(add_key());
  ASSERT_NO_FATAL_FAILURE(enroll_on_page());
  const std::string code = stack_->invite("alice");
  ASSERT_FALSE(code.empty());
  const std::string left = browser_->navigate(page_, "about:blank");
  ASSERT_TRUE(left.empty()) << left;

  ASSERT_NO_FATAL_FAILURE(open("#invite=" + code));
  ASSERT_NO_FATAL_FAILURE(wait_for("signed-in-view"));
  EXPECT_FALSE(shown("enroll-view"));
  EXPECT_EQ(text("user-name"), "alice");
  EXPECT_EQ(value("location.hash"), "");
  // The session's CSRF token (from GET /api/v1/session) is the page's again.
  EXPECT_EQ(stack_->verify("alice", issue_on_page("reloaded")), "ok");
  EXPECT_EQ(text("alert"), "");
  // The invitation is still good.
  WebClient elsewhere = stack_->new_client("elsewhere");
  EXPECT_TRUE(stack_->ceremony(elsewhere, "enroll", {{"invitation", code}}).ok());
  expect_no_page_errors();
}

}  // namespace
}  // namespace touchpass::testing
