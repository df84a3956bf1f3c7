// End to end with a real Dovecot set up exactly as README.md says, starting from Debian 12's stock
// configuration: touchpassd and a virtual token (the harness), app passwords issued with the
// touchpass CLI by real Unix users, IMAP and POP3 clients (curl) and Postfix's SMTP AUTH request
// logging in. The proof that matters: a user's Unix password, which the stock configuration
// accepts, is refused for IMAP, POP3 and SMTP, while the user's app passwords log in.
//
// The configuration is a copy of the stock files (/usr/share/dovecot, which Debian's packages copy
// into /etc/dovecot with ucf) in a temporary directory, with the documented changes applied: the
// shipped src/dovecot/auth-touchpass.conf.ext copied into conf.d, and the edit of
// conf.d/10-auth.conf read from README.md's diff, so that the test fails when the documentation
// is wrong. Besides that, only what a test must is changed, each change checked to apply once:
//   - a local.conf (the stock dovecot.conf includes it last): private run, state and log paths;
//     IMAP and POP3 on 127.0.0.1 at free ports; no TLS (Dovecot treats loopback as secured, so
//     plaintext logins are allowed with the default disable_plaintext_auth = yes), hence no
//     certificate lines in 10-ssl.conf; mail in the test users' homes; verbose authentication
//     logs; no login delays.
//   - PAM service names get a unique prefix (args = touchpass-e2e-PID-%s), so the shipped PAM
//     files are installed as /etc/pam.d/touchpass-e2e-PID-{imap,pop3,smtp}, with the built
//     module, the test daemon's socket and the scope the unprefixed name would give. They are
//     removed when the test ends, like the Unix users (useradd) the test creates.
//
// Dovecot's auth worker runs as root, so touchpassd lets it verify. Dovecot maps every PAM
// failure other than an unknown user or an expired account to "Authentication failed", so a
// client cannot tell a refused password from a daemon that is down; Dovecot's log can, and the
// test reads it.
#include <gtest/gtest.h>
#include <security/pam_appl.h>

#include "dovecot_fixture.h"

namespace touchpass::testing {
namespace {

const std::string kRefusedByPam =
    std::string("pam_authenticate() failed: ") + pam_strerror(nullptr, PAM_AUTH_ERR);

TEST_F(DovecotTest, UnixPasswordsAreRefusedForImapPop3AndSmtpWhileAppPasswordsLogIn) {
  // The Unix password is right: the stock passdb's PAM service (dovecot: common-auth, pam_unix)
  // accepts it.
  ASSERT_EQ(pam_check("dovecot", alice_.name, alice_.unix_password), PAM_SUCCESS);

  const std::size_t mark = dovecot_log().size();
  EXPECT_EQ(imap_login(alice_.name, alice_.unix_password), kCurlLoginDenied);
  EXPECT_EQ(pop3_login(alice_.name, alice_.unix_password), kCurlLoginDenied);
  EXPECT_EQ(smtp_auth(alice_.name, alice_.unix_password), "FAIL");
  // Each protocol asked its own PAM service, and pam_touchpass.so there said no.
  for (const char* protocol : kProtocols) {
    EXPECT_TRUE(log_shows("lookup service=" + pam_prefix_ + protocol, mark)) << dovecot_log();
  }
  EXPECT_TRUE(log_shows(kRefusedByPam, mark)) << dovecot_log();

  const std::string password = issue(alice_, "thunderbird", "imap,pop3,smtp");
  auto imap = login("imap", alice_.name, password);
  EXPECT_EQ(imap.exit_code, 0) << imap.err << dovecot_log();
  EXPECT_NE(imap.out.find("INBOX"), std::string::npos) << imap.out;
  auto pop3 = login("pop3", alice_.name, password);
  EXPECT_EQ(pop3.exit_code, 0) << pop3.err << dovecot_log();
  EXPECT_EQ(smtp_auth(alice_.name, password), "OK") << dovecot_log();
}

TEST_F(DovecotTest, AnIssuedAppPasswordLogsInOverImap) {
  const std::string password = issue(alice_, "thunderbird", "imap,smtp");
  ASSERT_EQ(password.size(), 24u) << password;
  auto login_result = login("imap", alice_.name, password);
  EXPECT_EQ(login_result.exit_code, 0) << login_result.err << dovecot_log();
  EXPECT_NE(login_result.out.find("INBOX"), std::string::npos) << login_result.out;
  // What a person might type works too: upper case, spaces for dashes.
  std::string typed = password;
  for (char& c : typed) c = c == '-' ? ' ' : static_cast<char>(std::toupper(c));
  EXPECT_EQ(imap_login(alice_.name, typed), 0);
  EXPECT_EQ(cli_verify(alice_.name, password), 0);
  // touchpassd records the use (in batches, every few seconds).
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  std::string last_service;
  while (last_service.empty() && std::chrono::steady_clock::now() < deadline) {
    auto listed = touchpass({"list", "--json"}, "", alice_.ids());
    const Json grants = Json::parse(listed.out, nullptr, false)["grants"];
    if (grants.is_array() && grants.size() == 1) last_service = grants[0].value("last_service", "");
    if (last_service.empty()) std::this_thread::sleep_for(500ms);
  }
  EXPECT_EQ(last_service, "imap");
}

TEST_F(DovecotTest, WrongRevokedOutOfScopeExpiredAndOtherUsersPasswordsAreRefused) {
  const std::string mail = issue(alice_, "mail", "imap");
  const std::string phone = issue(alice_, "phone");
  const std::string smtp_only = issue(alice_, "smtp-only", "smtp");
  const std::string theirs = issue(bob_, "their-mail", "imap");
  ASSERT_EQ(imap_login(alice_.name, mail), 0) << dovecot_log();
  ASSERT_EQ(imap_login(alice_.name, phone), 0) << dovecot_log();
  ASSERT_EQ(imap_login(bob_.name, theirs), 0) << dovecot_log();

  const std::size_t mark = dovecot_log().size();
  std::string wrong = mail;
  wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
  auto refused = login("imap", alice_.name, wrong);
  EXPECT_EQ(refused.exit_code, kCurlLoginDenied) << refused.err;
  EXPECT_TRUE(log_shows(kRefusedByPam, mark)) << dovecot_log();

  ASSERT_EQ(touchpass({"revoke", "phone"}, "", alice_.ids()).exit_code, 0);
  EXPECT_EQ(imap_login(alice_.name, phone), kCurlLoginDenied);

  // A password is good only for its scopes, whichever protocol asks.
  EXPECT_EQ(imap_login(alice_.name, smtp_only), kCurlLoginDenied);
  EXPECT_EQ(smtp_auth(alice_.name, smtp_only), "OK") << dovecot_log();
  EXPECT_EQ(pop3_login(alice_.name, mail), kCurlLoginDenied);
  EXPECT_EQ(smtp_auth(alice_.name, mail), "FAIL");

  EXPECT_EQ(imap_login(alice_.name, theirs), kCurlLoginDenied);
  EXPECT_EQ(imap_login(bob_.name, mail), kCurlLoginDenied);

  // An app password that expires in a few seconds (the raw protocol: the CLI takes dates and
  // durations only).
  const std::int64_t expires = unix_now() + 4;
  auto issued = call_as(
      alice_.uid, alice_.gid, deployment_->socket(),
      Json{
          {"v", 1}, {"op", "issue"}, {"name", "brief"}, {"scopes", {"imap"}}, {"expires", expires}},
      "123456");
  ASSERT_TRUE(issued && issued->final.kind == ipc::Reply::Kind::ok)
      << (issued ? issued->final.error.message : "no answer");
  const std::string brief = issued->secret;
  if (unix_now() < expires - 1) {
    EXPECT_EQ(imap_login(alice_.name, brief), 0);
  }
  while (unix_now() <= expires) std::this_thread::sleep_for(200ms);
  EXPECT_EQ(imap_login(alice_.name, brief), kCurlLoginDenied);

  // The CLI agrees, with its exit statuses for scripts.
  EXPECT_EQ(cli_verify(alice_.name, mail), 0);
  for (const std::string& password : {wrong, phone, smtp_only, theirs, brief}) {
    EXPECT_EQ(cli_verify(alice_.name, password), 1);
  }

  // touchpassd's audit log has the reasons the services were not told.
  auto log = touchpass({"log", "--json", "--all-users"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  for (const char* reason :
       {"unknown password", "revoked app password \\\"phone\\\"",
        "app password \\\"smtp-only\\\" is not for imap",
        "app password \\\"mail\\\" is not for pop3", "app password \\\"mail\\\" is not for smtp",
        "a password that is not this user's", "expired app password \\\"brief\\\""}) {
    EXPECT_NE(log.out.find(reason), std::string::npos) << reason;
  }
}

TEST_F(DovecotTest, AnExpiredUnixAccountIsRefusedEvenWithARightAppPassword) {
  const std::string password = issue(alice_, "mail", "imap");
  ASSERT_EQ(imap_login(alice_.name, password), 0) << dovecot_log();

  // How usermod(8) disables an account; the PAM files' "account" stack (common-account) checks it.
  auto expired = run_command({"/usr/sbin/usermod", "--expiredate", "1", alice_.name});
  ASSERT_EQ(expired.exit_code, 0) << expired.err;
  const std::size_t mark = dovecot_log().size();
  EXPECT_EQ(imap_login(alice_.name, password), kCurlLoginDenied);
  // The account stack said no (pam_unix: "Your account has expired").
  EXPECT_TRUE(log_shows("pam_acct_mgmt() failed", mark)) << dovecot_log().substr(mark);
  EXPECT_EQ(smtp_auth(alice_.name, password), "FAIL");
}

TEST_F(DovecotTest, WithTouchpassdDownTheLoginFailsAndDovecotLogsATemporaryFailure) {
  const std::string password = issue(alice_, "mail", "imap");
  ASSERT_EQ(imap_login(alice_.name, password), 0) << dovecot_log();

  deployment_->stop_daemon();
  const std::size_t mark = dovecot_log().size();
  const auto start = std::chrono::steady_clock::now();
  // Dovecot 2.3 tells the client "NO [AUTHENTICATIONFAILED]" here too; only its log differs.
  EXPECT_NE(imap_login(alice_.name, password), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
  EXPECT_TRUE(log_shows(
      std::string("pam_authenticate() failed: ") + pam_strerror(nullptr, PAM_AUTHINFO_UNAVAIL),
      mark))
      << dovecot_log().substr(mark);
  // No Unix password gets in while touchpassd is away.
  EXPECT_EQ(imap_login(alice_.name, alice_.unix_password), kCurlLoginDenied);
  EXPECT_EQ(cli_verify(alice_.name, password), 3);

  // Back up: the same password works again.
  ASSERT_TRUE(deployment_->start_daemon()) << deployment_->daemon_log();
  EXPECT_EQ(imap_login(alice_.name, password), 0) << dovecot_log();
}

// Why README.md's edit comments out auth-system.conf.ext: with Debian's system passdb still
// included (before ours), Unix passwords log in as well. This is what the first version of the
// README left, and it proves the Unix password the other tests see refused is a working one.
class DovecotWithTheSystemPassdbKeptTest : public DovecotTest {
 protected:
  Auth auth() const override { return Auth::system_passdb_kept; }
};

TEST_F(DovecotWithTheSystemPassdbKeptTest, UnixPasswordsLogInToo) {
  EXPECT_EQ(imap_login(alice_.name, alice_.unix_password), 0) << dovecot_log();
  EXPECT_EQ(pop3_login(alice_.name, alice_.unix_password), 0) << dovecot_log();
  const std::string password = issue(alice_, "mail", "imap");
  EXPECT_EQ(imap_login(alice_.name, password), 0) << dovecot_log();
}

}  // namespace
}  // namespace touchpass::testing
