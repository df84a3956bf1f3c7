// The web gateway end to end (API.md, "The relayed requests"): a user invited on the server
// enrolls a key, issues, shows, lists and revokes app passwords over HTTPS through
// touchpass-web (running as an unprivileged member of touchpassd's gateway group), the virtual
// token answering through the real libfido2; and the attacks of issue 12 point 5 change
// nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include "core/bytes.h"
#include "web_stack.h"

namespace touchpass::testing {
namespace {

using Json = ipc::Json;

class WebRelay : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: touchpass-web runs as nobody";
    std::string error;
    stack_ = WebStack::start(&error, web_extra());
    ASSERT_TRUE(stack_) << error;
  }
  virtual std::string web_extra() const { return ""; }

  // Invites `user`, enrolls the virtual token through the invitation as `client`: signed in.
  void enroll(WebClient& client, const std::string& user) {
    const std::string code = stack_->invite(user);
    ASSERT_FALSE(code.empty()) << stack_->deployment().daemon_log();
    const ApiReply enrolled =
        stack_->ceremony(client, "enroll", {{"invitation", code}, {"label", user + "'s key"}});
    ASSERT_TRUE(enrolled.ok()) << enrolled.http.body;
    EXPECT_EQ(enrolled.result().at("user"), user);
    ASSERT_FALSE(client.csrf.empty());
  }

  // Issues `name` (imap) as `client`: the password.
  std::string issue(WebClient& client, const std::string& name) {
    const ApiReply issued =
        stack_->ceremony(client, "issue", {{"name", name}, {"scopes", {"imap"}}});
    EXPECT_TRUE(issued.ok()) << issued.http.body;
    const auto bytes = from_base64url(issued.result().value("secret", ""));
    EXPECT_TRUE(bytes.has_value());
    return bytes ? std::string(bytes->begin(), bytes->end()) : "";
  }

  std::size_t grant_count(WebClient& client) {
    const ApiReply listed = stack_->call(client, "list");
    EXPECT_TRUE(listed.ok()) << listed.http.body;
    return listed.result().value("grants", Json::array()).size();
  }

  std::unique_ptr<WebStack> stack_;
};

TEST_F(WebRelay, AnInvitedUserEnrollsIssuesShowsListsAndRevokes) {
  WebClient alice = stack_->new_client("alice");
  ASSERT_NO_FATAL_FAILURE(enroll(alice, "alice"));

  // The session cookie is __Host-, Secure, HttpOnly, SameSite=Strict; no body holds the token.
  const ApiReply who = stack_->get(alice, "session");
  ASSERT_TRUE(who.ok()) << who.http.body;
  EXPECT_EQ(who.result().at("user"), "alice");

  const std::string password = issue(alice, "phone");
  ASSERT_EQ(password.size(), 24u) << password;
  EXPECT_EQ(stack_->verify("alice", password), "ok");
  EXPECT_EQ(stack_->verify("alice", password, "smtp"), "refused");  // only imap was granted

  const ApiReply shown = stack_->ceremony(alice, "show", {{"name", "phone"}});
  ASSERT_TRUE(shown.ok()) << shown.http.body;
  const auto again = from_base64url(shown.result().value("secret", ""));
  ASSERT_TRUE(again);
  EXPECT_EQ(std::string(again->begin(), again->end()), password);
  EXPECT_EQ(shown.http.header("cache-control"), "no-store");

  const ApiReply listed = stack_->call(alice, "list");
  ASSERT_TRUE(listed.ok()) << listed.http.body;
  ASSERT_EQ(listed.result().at("grants").size(), 1u);
  EXPECT_EQ(listed.result()["grants"][0].at("name"), "phone");
  const ApiReply tokens = stack_->call(alice, "tokens");
  ASSERT_TRUE(tokens.ok()) << tokens.http.body;
  ASSERT_EQ(tokens.result().at("tokens").size(), 1u);
  EXPECT_EQ(tokens.result()["tokens"][0].at("label"), "alice's key");

  ASSERT_TRUE(stack_->call(alice, "revoke", {{"name", "phone"}}).ok());
  EXPECT_EQ(stack_->verify("alice", password), "refused");

  const ApiReply log = stack_->call(alice, "log", {{"limit", 20}});
  ASSERT_TRUE(log.ok()) << log.http.body;
  std::vector<std::string> actions;
  for (const auto& e : log.result().at("entries")) actions.push_back(e.value("action", ""));
  for (const char* action : {"enroll", "issue", "show", "revoke"}) {
    EXPECT_NE(std::find(actions.begin(), actions.end(), action), actions.end()) << action;
  }

  ASSERT_TRUE(stack_->call(alice, "signout").ok());
  EXPECT_EQ(stack_->get(alice, "session").code(), "not_found");
}

TEST_F(WebRelay, ASignedOutUserSignsInWithTheKey) {
  WebClient alice = stack_->new_client("alice");
  ASSERT_NO_FATAL_FAILURE(enroll(alice, "alice"));
  ASSERT_TRUE(stack_->call(alice, "signout").ok());

  WebClient later = stack_->new_client("later");
  EXPECT_EQ(stack_->call(later, "list").code(), "not_found");  // no session
  const ApiReply signed_in = stack_->ceremony(later, "signin", {{"user", "alice"}});
  ASSERT_TRUE(signed_in.ok()) << signed_in.http.body;
  EXPECT_EQ(signed_in.result().at("user"), "alice");
  EXPECT_FALSE(signed_in.result().contains("secret"));  // the session is only in the cookie
  EXPECT_EQ(grant_count(later), 0u);
}

TEST_F(WebRelay, WithoutTheCsrfTokenNothingIsRelayed) {
  WebClient alice = stack_->new_client("alice");
  ASSERT_NO_FATAL_FAILURE(enroll(alice, "alice"));
  const std::string password = issue(alice, "phone");

  WebClient forged = alice;  // the cookie comes along (as a cross-site request's would)
  forged.csrf.clear();
  ApiReply refused = stack_->call(forged, "revoke", {{"name", "phone"}});
  EXPECT_EQ(refused.http.status, 403);
  EXPECT_EQ(refused.code(), "permission_denied");
  forged.csrf = std::string(43, 'A');
  EXPECT_EQ(stack_->call(forged, "revoke", {{"all", true}}).code(), "permission_denied");
  EXPECT_EQ(stack_->verify("alice", password), "ok");
  EXPECT_EQ(grant_count(alice), 1u);
}

TEST_F(WebRelay, ReplayedAndCrossUserCeremoniesAreRefused) {
  WebClient alice = stack_->new_client("alice");
  ASSERT_NO_FATAL_FAILURE(enroll(alice, "alice"));
  WebClient bob = stack_->new_client("bob");
  ASSERT_NO_FATAL_FAILURE(enroll(bob, "bob"));

  // Replay: the same finish twice issues once.
  Json finish;
  const ApiReply first = stack_->ceremony(alice, "issue", {{"name", "phone"}, {"scopes", {"imap"}}},
                                          [&](Json& body) { finish = body; });
  ASSERT_TRUE(first.ok()) << first.http.body;
  const ApiReply replay = stack_->call(alice, "finish", finish);
  EXPECT_EQ(replay.code(), "not_found") << replay.http.body;
  EXPECT_EQ(grant_count(alice), 1u);

  // Bob finishes a ceremony Alice began: refused, and nothing is stored for either.
  const ApiReply begun =
      stack_->call(alice, "issue-begin", {{"name", "laptop"}, {"scopes", {"imap"}}});
  ASSERT_TRUE(begun.ok()) << begun.http.body;
  auto body = stack_->finish_body(begun, "issue");
  ASSERT_TRUE(body.ok()) << body.error().message;
  const ApiReply stolen = stack_->call(bob, "finish", *body);
  EXPECT_EQ(stolen.code(), "permission_denied") << stolen.http.body;
  EXPECT_EQ(grant_count(alice), 1u);
  EXPECT_EQ(grant_count(bob), 0u);

  // Bob cannot act on Alice's grants through his session.
  EXPECT_EQ(stack_->call(bob, "list", {{"user", "alice"}}).code(), "permission_denied");
  EXPECT_EQ(stack_->call(bob, "revoke", {{"name", "phone"}, {"user", "alice"}}).code(),
            "permission_denied");
  EXPECT_EQ(grant_count(alice), 1u);
}

TEST_F(WebRelay, AWrongOriginInTheClientDataIsRefused) {
  WebClient alice = stack_->new_client("alice");
  ASSERT_NO_FATAL_FAILURE(enroll(alice, "alice"));
  // A phishing page's origin in the signed client data: the signature is good, the origin not.
  const ApiReply phished =
      stack_->ceremony(alice, "issue", {{"name", "phone"}, {"scopes", {"imap"}}}, [](Json& body) {
        std::string text = body.value("client_data_json", "");
        const auto at = text.find(kWebHost);
        ASSERT_NE(at, std::string::npos) << text;
        text.replace(at, std::string(kWebHost).size(), "mail.example.evil");
        body["client_data_json"] = text;
      });
  EXPECT_EQ(phished.code(), "verification_failed") << phished.http.body;
  EXPECT_EQ(grant_count(alice), 0u);
}

TEST_F(WebRelay, AnInvitationIsSpentOnceAndAWrongCodeEnrollsNothing) {
  const std::string code = stack_->invite("carol");
  WebClient carol = stack_->new_client("carol");
  EXPECT_EQ(stack_->ceremony(carol, "enroll", {{"invitation", "0000-0000-0000-0000-0000"}}).code(),
            "not_found");
  ASSERT_TRUE(stack_->ceremony(carol, "enroll", {{"invitation", code}}).ok());
  WebClient mallory = stack_->new_client("mallory");
  EXPECT_EQ(stack_->ceremony(mallory, "enroll", {{"invitation", code}}).code(), "invalid_argument");
  EXPECT_TRUE(mallory.csrf.empty());
}

TEST_F(WebRelay, MalformedRequestsAreRefusedAndTheGatewayGoesOn) {
  WebClient alice = stack_->new_client("alice");
  HttpRequest r;
  for (const char* body : {"{", "[1]", "{\"v\":1,\"user\":7}", "{\"v\":1,\"secret\":\"*\"}"}) {
    HttpRequest raw;
    raw.method = "POST";
    raw.url = stack_->origin() + "/api/v1/signin-begin";
    raw.body = body;
    raw.ca_certificate = stack_->certificate().certificate;
    raw.resolve = {std::string(kWebHost) + ":" +
                   stack_->origin().substr(stack_->origin().rfind(':') + 1) + ":127.0.0.1"};
    const HttpAnswer a = http(raw);
    EXPECT_EQ(a.status, 400) << body << " " << a.body;
  }
  EXPECT_EQ(stack_->call(alice, "verify", {{"user", "alice"}}).http.status, 404);
  EXPECT_EQ(stack_->call(alice, "invite", {{"user", "alice"}}).http.status, 404);
  ASSERT_NO_FATAL_FAILURE(enroll(alice, "alice"));
  EXPECT_TRUE(stack_->web().running());
}

TEST_F(WebRelay, TouchpassWebKilledInTheMiddleOfACeremonyLeavesNothingHalfStored) {
  WebClient alice = stack_->new_client("alice");
  ASSERT_NO_FATAL_FAILURE(enroll(alice, "alice"));
  const ApiReply begun =
      stack_->call(alice, "issue-begin", {{"name", "phone"}, {"scopes", {"imap"}}});
  ASSERT_TRUE(begun.ok()) << begun.http.body;
  auto body = stack_->finish_body(begun, "issue");
  ASSERT_TRUE(body.ok()) << body.error().message;

  std::string error;
  ASSERT_TRUE(stack_->restart_web(&error)) << error;
  // The old CSRF token was made under the old process's key: refused until the page asks again.
  EXPECT_EQ(stack_->call(alice, "list").code(), "permission_denied");
  ASSERT_TRUE(stack_->get(alice, "session").ok());  // the session itself lives in touchpassd
  EXPECT_EQ(grant_count(alice), 0u);

  // The ceremony belonged to the killed process: it cannot be finished, and stores nothing.
  EXPECT_FALSE(stack_->call(alice, "finish", *body).ok());
  EXPECT_EQ(grant_count(alice), 0u);
  // And the user simply starts again.
  EXPECT_EQ(issue(alice, "phone").size(), 24u);
  EXPECT_EQ(grant_count(alice), 1u);
}

class WebRelayWithOrigin : public WebRelay {
  std::string web_extra() const override { return "origin = https://mail.example.test\n"; }
};

TEST_F(WebRelayWithOrigin, APostFromAnotherOriginIsRefused) {
  // web.conf's origin (without the test's port) is not what the client sends: every POST in a
  // session is refused; without a session (sign-in, invitation) the origin is touchpassd's check.
  WebClient alice = stack_->new_client("alice");
  ASSERT_NO_FATAL_FAILURE(enroll(alice, "alice"));
  EXPECT_EQ(stack_->call(alice, "list").code(), "permission_denied");
  alice.origin = "https://mail.example.test";
  EXPECT_TRUE(stack_->call(alice, "list").ok());
  alice.origin.clear();  // a client that sends no Origin (the CLI) relies on the CSRF token
  EXPECT_TRUE(stack_->call(alice, "list").ok());
}

}  // namespace
}  // namespace touchpass::testing
