// The self-service page's flows in a real headless Chromium with a DevTools virtual key, against
// a scripted API: the test holds every request the page makes to /api/v1/ (CDP Fetch), checks
// it against src/web/API.md and answers it as touchpass-web would. What the page sends to finish
// a ceremony is checked with touchpassd's own verification (core/attestation.h,
// core/assertion.h), so a page that builds the fields wrongly fails here. Skips itself when
// Chromium is not installed.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/assertion.h"
#include "core/attestation.h"
#include "core/bytes.h"
#include "core/client_data.h"
#include "e2e/browser/page_fixture.h"
#include "ipc/messages.h"

namespace touchpass::testing {
namespace {

using Json = nlohmann::json;

constexpr const char* kCode = "abcd-efgh-jkmn-pqrs-tvwx";
constexpr const char* kPassword = "k3m9-x2pq-7hv4-ttb0-c8ne";

std::string b64(const Bytes& bytes) {
  return to_base64url(bytes);
}
std::string b64(const std::string& text) {
  return to_base64url(Bytes(text.begin(), text.end()));
}
Bytes filled(std::size_t size, std::uint8_t byte) {
  return Bytes(size, byte);
}
Bytes decoded(const Json& field) {
  return from_base64url(field.is_string() ? field.get<std::string>() : std::string("!"))
      .value_or(Bytes());
}

// One request the page made to /api/v1/, held until the test answers it.
struct ApiRequest {
  std::string id;      // CDP's requestId
  std::string method;  // GET or POST
  std::string op;      // the path after /api/v1/
  Json body;           // the parsed body (null without one)
  Json headers;        // as the page sent them
  std::string header(const std::string& name) const {
    for (const auto& [key, value] : headers.items()) {
      if (key.size() == name.size() &&
          std::equal(key.begin(), key.end(), name.begin(),
                     [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
        return value.get<std::string>();
      }
    }
    return {};
  }
};

// The key the page enrolled, as touchpassd would have stored it.
struct EnrolledKey {
  std::string credential;  // base64url
  Es256PublicKey public_key;
};

class ScriptedApi : public PageInBrowser {
 protected:
  void SetUp() override {
    PageInBrowser::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    const CdpAnswer held = browser_->intercept(page_, "*/api/v1/*");
    ASSERT_TRUE(held.ok()) << held.error;
  }

  void expect_no_prf_enrollment(const Json& options);

  // Adds the virtual key, with hmac-secret or without.
  void add_key(bool hmac_secret) {
    Json options = virtual_key_options();
    options["hasHmacSecret"] = hmac_secret;
    const CdpAnswer key = browser_->add_virtual_authenticator(page_, options);
    ASSERT_TRUE(key.ok()) << key.error;
  }

  std::string origin() const { return page_url().substr(0, page_url().size() - 1); }

  // The next request the page makes; it must be `op` with `method`.
  ApiRequest next(const std::string& op, const std::string& method = "POST") {
    ApiRequest r;
    const auto paused = browser_->wait_for_event("Fetch.requestPaused", page_);
    EXPECT_TRUE(paused) << "the page made no request (" << op << " expected)";
    if (!paused) return r;
    const Json& request = paused->params["request"];
    r.id = paused->params.value("requestId", "");
    r.method = request.value("method", "");
    const std::string url = request.value("url", "");
    const auto at = url.find("/api/v1/");
    r.op = at == std::string::npos ? url : url.substr(at + 8);
    r.headers = request.value("headers", Json::object());
    if (request.contains("postData")) {
      r.body = Json::parse(request["postData"].get<std::string>(), nullptr, false);
    }
    EXPECT_EQ(r.op, op);
    EXPECT_EQ(r.method, method) << op;
    if (method == "POST") {
      EXPECT_EQ(r.header("Content-Type"), "application/json") << op;
      EXPECT_TRUE(r.body.is_object()) << op;
      if (r.body.is_object()) {
        EXPECT_EQ(r.body.value("v", 0), 1) << op;
        expect_relayable(r);
      }
    }
    return r;
  }

  // The request must be one touchpass-web relays: as it does (src/web/relayed_request.cpp), the
  // secret and the invitation code leave the JSON, `op` and `remote` join it, and the local
  // protocol's parser must accept what remains.
  static void expect_relayable(const ApiRequest& r) {
    Json relayed = r.body;
    relayed.erase("secret");
    if (relayed.contains("invitation")) relayed["invitation"] = true;
    relayed["op"] = r.op;
    relayed["remote"] = "127.0.0.1";
    const auto parsed = ipc::Request::parse(relayed.dump());
    EXPECT_TRUE(parsed.ok()) << r.op << ": " << (parsed.ok() ? "" : parsed.error().message) << "\n"
                             << r.body.dump();
  }

  void reply(const ApiRequest& r, const Json& result) {
    send(r, 200, {{"v", 1}, {"ok", true}, {"result", result}});
  }

  void refuse(const ApiRequest& r, int status, const std::string& code,
              const std::string& message) {
    send(r, status, {{"v", 1}, {"ok", false}, {"error", {{"code", code}, {"message", message}}}});
  }

  void send(const ApiRequest& r, int status, const Json& body) {
    const CdpAnswer sent = browser_->fulfill(
        page_, r.id, status, {{"Content-Type", "application/json"}, {"Cache-Control", "no-store"}},
        body.dump());
    ASSERT_TRUE(sent.ok()) << sent.error;
  }

  // Opens the page signed out (`fragment` may carry an invitation) with touchpassd reachable.
  void open_signed_out(const std::string& fragment = "") {
    ASSERT_NO_FATAL_FAILURE(navigate(fragment));
    refuse(next("session", "GET"), 404, "not_found", "Your session has ended; sign in again.");
    reply(next("health", "GET"), {{"daemon", true}});
    ASSERT_NO_FATAL_FAILURE(wait_until_ready());
  }

  // Answers the lists a signed-in page asks for, checking that each carries `csrf`.
  void answer_lists(const std::string& csrf, const Json& grants) {
    ApiRequest r = next("list");
    EXPECT_EQ(r.header("X-Touchpass-CSRF"), csrf);
    reply(r, {{"grants", grants}, {"throttle", {{"locked_sources", Json::array()}}}});
    r = next("tokens");
    EXPECT_EQ(r.header("X-Touchpass-CSRF"), csrf);
    reply(r, {{"tokens",
               {{{"id", 1},
                 {"user", "alice"},
                 {"label", "blue key"},
                 {"kind", "fido2"},
                 {"device", "browser"},
                 {"virtual", false},
                 {"uv", true},
                 {"aaguid", ""},
                 {"attestation", "packed"},
                 {"created", 1764700000}}}}});
    r = next("log");
    EXPECT_EQ(r.header("X-Touchpass-CSRF"), csrf);
    EXPECT_EQ(r.body.value("limit", 0), 50);
    reply(r, {{"entries",
               {{{"seq", 1},
                 {"time", 1764700000},
                 {"actor", "alice"},
                 {"action", "enroll"},
                 {"user", "alice"},
                 {"object", "blue key"},
                 {"result", "ok"}}}}});
  }

  // From the enroll view: adds the key named "blue key" with the invitation kCode, checks the
  // finish fields as touchpassd would and opens the session "csrf-1".
  std::optional<EnrolledKey> enroll() {
    type("enroll-label", "blue key");
    click("enroll-button");
    ApiRequest r = next("enroll-begin");
    EXPECT_EQ(r.body,
              (Json{{"v", 1}, {"invitation", kCode}, {"label", "blue key"}, {"uv", "pin"}}));
    EXPECT_EQ(r.header("X-Touchpass-CSRF"), "");
    return answer_enrollment(r, {{"user", "alice"}, {"expires", 1764743200}, {"csrf", "csrf-1"}});
  }

  // Answers the enroll-begin `r` with an EnrollOffer for this host, checks the page's finish
  // fields as touchpassd would and answers them with `finish_result`.
  std::optional<EnrolledKey> answer_enrollment(const ApiRequest& begin, const Json& finish_result) {
    ApiRequest r = begin;
    const Bytes ceremony = filled(16, 0xc1);
    const Bytes challenge = filled(32, 0x11);
    reply(r, {{"ceremony", b64(ceremony)},
              {"expires_in", 180},
              {"kind", "fido2"},
              {"rp_id", kPageHost},
              {"rp_name", "touchpass"},
              {"user_id", b64(filled(16, 0x07))},
              {"user_name", "alice"},
              {"origin", origin()},
              {"challenge", b64(challenge)},
              {"uv", true}});

    r = next("finish");
    const Json& f = r.body;
    EXPECT_EQ(f.value("ceremony", ""), b64(ceremony));
    EXPECT_EQ(f.value("device", ""), "browser");
    EXPECT_EQ(f.value("virtual", true), false);
    EXPECT_EQ(f.value("secret", "-"), "");
    AttestationStatement statement;
    statement.format = f.value("attestation_format", "");
    statement.authenticator_data = decoded(f["authenticator_data"]);
    statement.signature = decoded(f["signature"]);
    if (f.contains("attestation_certificate")) {
      statement.certificate = decoded(f["attestation_certificate"]);
    }
    statement.client_data_json = f.value("client_data_json", "");
    const std::vector<std::string> origins = {origin()};
    AttestationExpectation expected{kPageHost, {kClientDataCreate, challenge, origins}, true};
    const auto attested = verify_attestation(statement, expected);
    EXPECT_TRUE(attested.ok()) << (attested.ok() ? "" : attested.error().message);
    if (!attested.ok()) return std::nullopt;
    EXPECT_EQ(b64(attested.value().credential_id), f.value("credential", ""));
    reply(r, finish_result);
    return EnrolledKey{f.value("credential", ""), attested.value().public_key};
  }

  // An Offer for `key`, after a key made by the command line (another rp id, which the page must
  // skip) and, when `other_web_key`, a key of this host that is not plugged in, with the same
  // challenge (as a sign-in offers them).
  Json offer(const EnrolledKey& key, const Bytes& challenge, const std::string& prf_input,
             bool other_web_key = false) {
    Json sent = offer_for(key, challenge, prf_input);
    if (other_web_key) {
      Json other = sent["credentials"][1];
      other["token"] = "lost key";
      other["credential"] = b64(filled(48, 0x77));
      sent["credentials"].insert(sent["credentials"].begin() + 1, other);
    }
    return sent;
  }

  Json offer_for(const EnrolledKey& key, const Bytes& challenge, const std::string& prf_input) {
    return {{"ceremony", b64(filled(16, challenge[0]))},
            {"expires_in", 180},
            {"origin", origin()},
            {"salt", b64(filled(32, 0x55))},
            {"prf_input", b64(prf_input)},
            {"credentials",
             {{{"kind", "fido2"},
               {"token", "cli key"},
               {"credential", b64(filled(64, 0x99))},
               {"rp_id", "touchpass"},
               {"uv", true},
               {"challenge", b64(filled(32, 0x98))}},
              {{"kind", "fido2"},
               {"token", "blue key"},
               {"credential", key.credential},
               {"rp_id", kPageHost},
               {"uv", true},
               {"public_key", b64(key.public_key.raw())},
               {"sign_count", 0},
               {"challenge", b64(challenge)}}}}};
  }

  // Checks the finish of an assertion for `offer_sent` as touchpassd would; returns S.
  std::string check_assertion(const ApiRequest& r, const EnrolledKey& key, const Json& offer_sent,
                              const Bytes& challenge) {
    const Json& f = r.body;
    EXPECT_EQ(f.value("ceremony", ""), offer_sent.value("ceremony", ""));
    EXPECT_EQ(f.value("credential", ""), key.credential);
    SignedAssertion assertion;
    assertion.authenticator_data = decoded(f["authenticator_data"]);
    assertion.signature = decoded(f["signature"]);
    assertion.client_data_json = f.value("client_data_json", "");
    const std::vector<std::string> origins = {origin()};
    AssertionExpectation expected{kPageHost, {kClientDataGet, challenge, origins}, true, 0};
    const auto verified = verify_assertion(assertion, key.public_key, expected);
    EXPECT_TRUE(verified.ok()) << (verified.ok() ? "" : verified.error().message);
    const std::string secret = f.value("secret", "");
    EXPECT_EQ(decoded(f["secret"]).size(), 32u) << "S must be the 32-byte PRF output";
    return secret;
  }
};

TEST_F(ScriptedApi, AnInvitationAddsTheKeyAndOpensTheAccount) {
  ASSERT_NO_FATAL_FAILURE(add_key(true));
  ASSERT_NO_FATAL_FAILURE(open_signed_out(std::string("#invite=") + kCode));
  EXPECT_TRUE(shown("enroll-view"));
  EXPECT_EQ(value("location.hash"), "");  // the code left the address bar

  const auto key = enroll();
  ASSERT_TRUE(key);
  answer_lists("csrf-1", {{{"grant_id", "00"},
                           {"user", "alice"},
                           {"name", "laptop"},
                           {"scopes", {"imap", "smtp"}},
                           {"created", 1764700000},
                           {"expires", 0},
                           {"token_label", "blue key"},
                           {"kind", "fido2"},
                           {"last_used", 1764701000},
                           {"last_service", "imap"},
                           {"last_address", "192.0.2.7"}}});
  ASSERT_NO_FATAL_FAILURE(wait_until("document.querySelectorAll('#log-body tr').length === 1"));
  EXPECT_TRUE(shown("signed-in-view"));
  EXPECT_FALSE(shown("enroll-view"));
  EXPECT_EQ(text("user-name"), "alice");
  EXPECT_EQ(value("document.querySelector('#grants-body tr').dataset.name"), "laptop");
  EXPECT_NE(value("document.querySelector('#grants-body tr').textContent")
                .get<std::string>()
                .find("imap, smtp"),
            std::string::npos);
  EXPECT_NE(value("document.querySelector('#grants-body tr').textContent")
                .get<std::string>()
                .find("(imap) from 192.0.2.7"),
            std::string::npos);
  EXPECT_TRUE(shown("show-laptop"));
  EXPECT_TRUE(shown("revoke-laptop"));
  EXPECT_TRUE(shown("revoke-key-blue%20key"));
  EXPECT_NE(text("status").find("Your security key was added"), std::string::npos)
      << text("status");
  const std::vector<std::string> errors = page_errors();
  EXPECT_TRUE(errors.empty()) << ::testing::PrintToString(errors);
}

// Enrolls from an invitation with a key made with `options` that touchpass cannot use: the page
// must name the missing extension and never send finish.
void ScriptedApi::expect_no_prf_enrollment(const Json& options) {
  ASSERT_TRUE(browser_->add_virtual_authenticator(page_, options).ok());
  ASSERT_NO_FATAL_FAILURE(open_signed_out(std::string("#invite=") + kCode));
  type("enroll-label", "old key");
  click("enroll-button");
  const ApiRequest r = next("enroll-begin");
  reply(r, {{"ceremony", b64(filled(16, 1))},
            {"expires_in", 180},
            {"kind", "fido2"},
            {"rp_id", kPageHost},
            {"rp_name", "touchpass"},
            {"user_id", b64(filled(16, 2))},
            {"user_name", "alice"},
            {"origin", origin()},
            {"challenge", b64(filled(32, 3))},
            {"uv", false}});
  ASSERT_NO_FATAL_FAILURE(wait_until("!document.getElementById('alert').hidden"));
  EXPECT_NE(text("alert").find("does not support the PRF (hmac-secret) extension"),
            std::string::npos)
      << text("alert");
  EXPECT_TRUE(shown("enroll-view"));
  for (const CdpEvent& e : browser_->events()) {
    const std::string url = e.params.value("request", Json::object()).value("url", "");
    EXPECT_EQ(url.find("/api/v1/finish"), std::string::npos) << "the page finished anyway";
  }
}

TEST_F(ScriptedApi, AKeyWithoutHmacSecretIsNamedAndTheEnrollmentIsNotFinished) {
  Json options = virtual_key_options();
  options["hasHmacSecret"] = false;
  expect_no_prf_enrollment(options);
}

// A key that offers PRF through CTAP's "prf" extension: the browser reports prf.enabled, but
// the authenticator data has no hmac-secret output, which touchpassd requires.
TEST_F(ScriptedApi, AKeyWithPrfButNoHmacSecretIsNamedAndTheEnrollmentIsNotFinished) {
  Json options = virtual_key_options();
  options["hasHmacSecret"] = false;
  options["hasPrf"] = true;
  expect_no_prf_enrollment(options);
}

TEST_F(ScriptedApi, SignInIssueShowRevokeAndSignOut) {
  ASSERT_NO_FATAL_FAILURE(emulate_phone());
  ASSERT_NO_FATAL_FAILURE(add_key(true));
  ASSERT_NO_FATAL_FAILURE(open_signed_out(std::string("#invite=") + kCode));
  const auto key = enroll();
  ASSERT_TRUE(key);
  answer_lists("csrf-1", Json::array());
  ASSERT_NO_FATAL_FAILURE(wait_until("document.querySelectorAll('#log-body tr').length === 1"));

  // Sign out, then in again with the key.
  click("signout-button");
  ApiRequest r = next("signout");
  EXPECT_EQ(r.header("X-Touchpass-CSRF"), "csrf-1");
  reply(r, Json::object());
  ASSERT_NO_FATAL_FAILURE(wait_until("!document.getElementById('signin-view').hidden"));
  type("signin-user", "alice");
  click("signin-button");
  r = next("signin-begin");
  EXPECT_EQ(r.body, (Json{{"v", 1}, {"user", "alice"}}));
  const Bytes signin_challenge = filled(32, 0x44);
  Json sent = offer(*key, signin_challenge, "random", true);
  ASSERT_EQ(sent["credentials"].size(), 3u);
  reply(r, sent);
  r = next("finish");
  check_assertion(r, *key, sent, signin_challenge);
  reply(r, {{"user", "alice"}, {"expires", 1764743200}, {"csrf", "csrf-2"}});
  answer_lists("csrf-2", Json::array());
  ASSERT_NO_FATAL_FAILURE(wait_until("!document.getElementById('signed-in-view').hidden"));

  // Issue "phone" for IMAP and SMTP, expiring in 90 days.
  type("issue-name", "phone");
  click("issue-scope-all");
  click("issue-scope-imap");
  click("issue-scope-smtp");
  type("issue-expires", "90");
  const std::int64_t before = std::time(nullptr);
  click("issue-button");
  r = next("issue-begin");
  EXPECT_EQ(r.header("X-Touchpass-CSRF"), "csrf-2");
  EXPECT_EQ(r.body.value("name", ""), "phone");
  EXPECT_EQ(r.body["scopes"], (Json{"imap", "smtp"}));
  const std::int64_t expires = r.body.value("expires", std::int64_t{0});
  EXPECT_GE(expires, before + 90 * 86400 - 86400);  // the page's clock may differ a little
  EXPECT_LE(expires, before + 90 * 86400 + 86400);
  const std::string prf_input = "touchpass/v2/salt" + std::string(16, 'g');
  const Bytes issue_challenge = filled(32, 0x22);
  sent = offer(*key, issue_challenge, prf_input);
  reply(r, sent);
  r = next("finish");
  const std::string issued_s = check_assertion(r, *key, sent, issue_challenge);
  reply(r, {{"grant", {{"name", "phone"}}}, {"secret", b64(std::string(kPassword))}});
  const Json phone = {{"grant_id", "01"},           {"user", "alice"},       {"name", "phone"},
                      {"scopes", {"imap", "smtp"}}, {"created", 1764700000}, {"expires", expires},
                      {"token_label", "blue key"},  {"kind", "fido2"}};
  reply(next("list"), {{"grants", Json::array({phone})}});
  reply(next("log"), {{"entries", Json::array()}});
  ASSERT_NO_FATAL_FAILURE(wait_until("!document.getElementById('password-panel').hidden"));
  EXPECT_EQ(text("password-text"), kPassword);
  EXPECT_EQ(text("password-name"), "phone");
  const std::vector<std::string> layout = layout_problems();
  EXPECT_TRUE(layout.empty()) << ::testing::PrintToString(layout);
  const std::string shot = browser_->screenshot(
      page_, std::filesystem::path(TOUCHPASS_TEST_OUTPUT_DIR) / "page_new_password.png");
  EXPECT_TRUE(shot.empty()) << shot;
  click("done-button");
  EXPECT_EQ(text("password-text"), "");
  EXPECT_FALSE(shown("password-panel"));

  // Show it again: the same PRF input gives the same S.
  ASSERT_NO_FATAL_FAILURE(wait_until("document.getElementById('show-phone') !== null"));
  click("show-phone");
  r = next("show-begin");
  EXPECT_EQ(r.body, (Json{{"v", 1}, {"name", "phone"}}));
  const Bytes show_challenge = filled(32, 0x33);
  sent = offer(*key, show_challenge, prf_input);
  reply(r, sent);
  r = next("finish");
  EXPECT_EQ(check_assertion(r, *key, sent, show_challenge), issued_s);
  reply(r, {{"grant", {{"name", "phone"}}}, {"secret", b64(std::string(kPassword))}});
  reply(next("log"), {{"entries", Json::array()}});
  ASSERT_NO_FATAL_FAILURE(wait_until("!document.getElementById('password-panel').hidden"));
  EXPECT_EQ(text("password-text"), kPassword);
  click("done-button");

  // Revoke, confirmed in the dialog; touchpass-web restarted meanwhile, so the first try is
  // refused for its CSRF token and the page asks the session for a new one.
  click("revoke-phone");
  ASSERT_NO_FATAL_FAILURE(wait_until("document.getElementById('confirm-dialog').open"));
  click("confirm-yes");
  r = next("revoke");
  EXPECT_EQ(r.body, (Json{{"v", 1}, {"name", "phone"}}));
  refuse(r, 403, "permission_denied", "The request did not come from the touchpass page.");
  reply(next("session", "GET"), {{"user", "alice"}, {"expires", 1764743200}, {"csrf", "csrf-3"}});
  r = next("revoke");
  EXPECT_EQ(r.header("X-Touchpass-CSRF"), "csrf-3");
  reply(r, {{"revoked", 1}});
  Json revoked = phone;
  revoked["revoked"] = 1764709999;
  reply(next("list"), {{"grants", Json::array({revoked})}});
  reply(next("log"), {{"entries", Json::array()}});
  ASSERT_NO_FATAL_FAILURE(
      wait_until("document.getElementById('status').textContent.includes('was revoked')"));
  EXPECT_EQ(value("document.getElementById('revoke-phone')"), Json());
  EXPECT_NE(value("document.querySelector('#grants-body tr').textContent")
                .get<std::string>()
                .find("revoked"),
            std::string::npos);

  const std::vector<std::string> errors = page_errors();
  EXPECT_TRUE(errors.empty()) << ::testing::PrintToString(errors);
}

TEST_F(ScriptedApi, AddAnotherKeyAndRevokeAll) {
  ASSERT_NO_FATAL_FAILURE(add_key(true));
  ASSERT_NO_FATAL_FAILURE(open_signed_out(std::string("#invite=") + kCode));
  ASSERT_TRUE(enroll());
  const Json laptop = {{"grant_id", "00"},        {"user", "alice"},       {"name", "laptop"},
                       {"scopes", Json::array()}, {"created", 1764700000}, {"expires", 0}};
  answer_lists("csrf-1", Json::array({laptop}));
  ASSERT_NO_FATAL_FAILURE(wait_until("document.querySelectorAll('#log-body tr').length === 1"));
  EXPECT_NE(
      value("document.querySelector('#grants-body tr').textContent").get<std::string>().find("all"),
      std::string::npos);

  // Another key, in the session: no invitation, the CSRF token.
  type("add-key-label", "spare key");
  click("add-key-uv");  // presence only
  click("add-key-button");
  ApiRequest r = next("enroll-begin");
  EXPECT_EQ(r.body, (Json{{"v", 1}, {"label", "spare key"}, {"uv", "presence"}}));
  EXPECT_EQ(r.header("X-Touchpass-CSRF"), "csrf-1");
  ASSERT_TRUE(answer_enrollment(r, {{"token", {{"label", "spare key"}}}}));
  reply(next("tokens"), {{"tokens", Json::array()}});
  reply(next("log"), {{"entries", Json::array()}});
  ASSERT_NO_FATAL_FAILURE(
      wait_until("document.getElementById('status').textContent === 'The key was added.'"));

  // Revoke all, after a first "Cancel".
  click("revoke-all-button");
  ASSERT_NO_FATAL_FAILURE(wait_until("document.getElementById('confirm-dialog').open"));
  click("confirm-no");
  ASSERT_NO_FATAL_FAILURE(wait_until("!document.getElementById('confirm-dialog').open"));
  click("revoke-all-button");
  ASSERT_NO_FATAL_FAILURE(wait_until("document.getElementById('confirm-dialog').open"));
  click("confirm-yes");
  r = next("revoke");  // the first request after "Cancel": nothing was sent then
  EXPECT_EQ(r.body, (Json{{"v", 1}, {"all", true}}));
  reply(r, {{"revoked", 2}});
  reply(next("list"), {{"grants", Json::array()}});
  reply(next("log"), {{"entries", Json::array()}});
  ASSERT_NO_FATAL_FAILURE(
      wait_until("document.getElementById('status').textContent === 'Revoked 2 app passwords.'"));
  EXPECT_TRUE(shown("grants-empty"));
  EXPECT_FALSE(shown("revoke-all-button"));
}

TEST_F(ScriptedApi, AnEndedSessionLeadsBackToSignIn) {
  ASSERT_NO_FATAL_FAILURE(add_key(true));
  ASSERT_NO_FATAL_FAILURE(open_signed_out(std::string("#invite=") + kCode));
  ASSERT_TRUE(enroll());
  answer_lists("csrf-1", Json::array());
  ASSERT_NO_FATAL_FAILURE(wait_until("document.querySelectorAll('#log-body tr').length === 1"));
  click("log-refresh");
  refuse(next("log"), 404, "not_found", "Your session has ended; sign in again.");
  refuse(next("session", "GET"), 404, "not_found", "Your session has ended; sign in again.");
  ASSERT_NO_FATAL_FAILURE(wait_until("!document.getElementById('signin-view').hidden"));
  EXPECT_EQ(text("alert"), "Your session has ended; sign in again.");
  EXPECT_FALSE(shown("signed-in-view"));
  EXPECT_FALSE(shown("user-bar"));
}

TEST_F(ScriptedApi, AKeyThatRefusesIsACancelledRequestNotAFinish) {
  Json options = virtual_key_options();
  options["isUserVerified"] = false;  // the PIN is never accepted
  ASSERT_TRUE(browser_->add_virtual_authenticator(page_, options).ok());
  ASSERT_NO_FATAL_FAILURE(open_signed_out(std::string("#invite=") + kCode));
  click("enroll-button");
  reply(next("enroll-begin"), {{"ceremony", b64(filled(16, 1))},
                               {"expires_in", 180},
                               {"kind", "fido2"},
                               {"rp_id", kPageHost},
                               {"rp_name", "touchpass"},
                               {"user_id", b64(filled(16, 2))},
                               {"user_name", "alice"},
                               {"origin", origin()},
                               {"challenge", b64(filled(32, 3))},
                               {"uv", true}});
  ASSERT_NO_FATAL_FAILURE(wait_until("!document.getElementById('alert').hidden"));
  EXPECT_NE(text("alert").find("The security key did not answer"), std::string::npos)
      << text("alert");
  EXPECT_FALSE(value("document.getElementById('enroll-button').disabled").get<bool>());
  for (const CdpEvent& e : browser_->events()) {
    const std::string url = e.params.value("request", Json::object()).value("url", "");
    EXPECT_EQ(url.find("/api/v1/finish"), std::string::npos) << "the page finished anyway";
  }
}

TEST_F(ScriptedApi, AReloadedPageKeepsItsSessionAndIgnoresAnInvitation) {
  ASSERT_NO_FATAL_FAILURE(add_key(true));
  ASSERT_NO_FATAL_FAILURE(navigate(std::string("#invite=") + kCode));
  reply(next("session", "GET"), {{"user", "alice"}, {"expires", 1764743200}, {"csrf", "csrf-9"}});
  answer_lists("csrf-9", Json::array());
  ASSERT_NO_FATAL_FAILURE(wait_until_ready());
  ASSERT_NO_FATAL_FAILURE(wait_until("document.querySelectorAll('#log-body tr').length === 1"));
  EXPECT_TRUE(shown("signed-in-view"));
  EXPECT_FALSE(shown("enroll-view"));
  EXPECT_EQ(text("user-name"), "alice");
  EXPECT_EQ(value("location.hash"), "");
  EXPECT_EQ(text("alert"), "");
}

}  // namespace
}  // namespace touchpass::testing
