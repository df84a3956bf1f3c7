// End to end with a real Dovecot: touchpassd and a virtual token (the harness), app passwords
// issued with the touchpass CLI as a real Unix user, and an IMAP client (curl) logging in to a
// Dovecot whose PAM passdb runs pam_touchpass.so. The test starts and stops Dovecot itself with
// a private configuration in a temporary directory (IMAP on 127.0.0.1, a free port, no TLS),
// and installs a uniquely named PAM service file /etc/pam.d/touchpass-e2e-PID for the run.
//
// Dovecot's auth worker runs as root, so touchpassd lets it verify. Dovecot maps every PAM
// failure other than an unknown user or an expired account to "Authentication failed", so a
// client cannot tell a refused password from a daemon that is down; Dovecot's log can, and the
// test reads it.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <security/pam_appl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "daemon/daemon_harness.h"

namespace touchpass::testing {
namespace {

using namespace std::chrono_literals;
using ipc::Json;

constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;
constexpr uid_t kDaemonUser = 1;  // the Debian system user "daemon"
constexpr gid_t kDaemonGroup = 1;
constexpr const char* kDovecot = "/usr/sbin/dovecot";
constexpr const char* kCurl = "/usr/bin/curl";
constexpr int kCurlLoginDenied = 67;  // CURLE_LOGIN_DENIED

// A TCP port on 127.0.0.1 that nothing listens on right now.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    return -1;
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

bool port_accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class DovecotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (TOUCHPASS_SANITIZED) {
      GTEST_SKIP() << "an ASan-built pam_touchpass.so cannot be loaded into Dovecot";
    }
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs root: it installs /etc/pam.d/touchpass-e2e-PID and runs Dovecot";
    }
    if (::access(kDovecot, X_OK) != 0 || ::access(kCurl, X_OK) != 0) {
      GTEST_SKIP() << "needs " << kDovecot << " and " << kCurl
                   << " (Debian packages dovecot-core, dovecot-imapd, curl)";
    }
    Deployment::Options options;
    options.extra_config = "failure_delay_ms = 0\n";  // keep the test quick; delays: verify_test
    deployment_ = std::make_unique<Deployment>(options);
    ASSERT_TRUE(deployment_->start_token());
    ASSERT_TRUE(deployment_->start_daemon()) << deployment_->daemon_log();
    // Users other than root may use the virtual token (a USB key: the user at the seat).
    ASSERT_EQ(::chmod(deployment_->token_socket().c_str(), 0666), 0);

    pam_service_ = "touchpass-e2e-" + std::to_string(::getpid());
    pam_file_ = fs::path("/etc/pam.d") / pam_service_;
    std::ofstream(pam_file_) << "# touchpass end-to-end test; removed when the test ends\n"
                             << "auth    required " << PAM_TOUCHPASS_MODULE
                             << " socket=" << deployment_->socket().string() << " service=imap\n"
                             << "account required pam_permit.so\n";
    ASSERT_TRUE(fs::exists(pam_file_));
    start_dovecot();
  }

  void TearDown() override {
    if (dovecot_.pid() > 0) dovecot_.stop(SIGTERM);
    std::error_code ec;
    if (!pam_file_.empty()) fs::remove(pam_file_, ec);
    if (!dovecot_dir_.empty()) fs::remove_all(dovecot_dir_, ec);
  }

  void start_dovecot() {
    char dir_template[] = "/tmp/touchpass-dovecot-XXXXXX";
    dovecot_dir_ = ::mkdtemp(dir_template);
    ::chmod(dovecot_dir_.c_str(), 0755);  // Dovecot's login and mail processes traverse it
    fs::create_directories(dovecot_dir_ / "mail");
    ASSERT_EQ(::chown((dovecot_dir_ / "mail").c_str(), kNobody, kNogroup), 0);
    port_ = free_port();
    ASSERT_GT(port_, 0);
    const std::string d = dovecot_dir_.string();
    std::ofstream(dovecot_dir_ / "dovecot.conf")
        << "base_dir = " << d << "/run\n"
        << "state_dir = " << d << "/state\n"
        << "log_path = " << d << "/dovecot.log\n"
        << "protocols = imap\n"
        << "listen = 127.0.0.1\n"
        << "ssl = no\n"
        << "disable_plaintext_auth = no\n"
        << "auth_mechanisms = plain login\n"
        << "auth_verbose = yes\n"
        << "auth_failure_delay = 0\n"
        << "auth_cache_size = 0\n"
        // No growing delay from Dovecot's own brute-force protection (anvil) either.
        << "service anvil {\n  unix_listener anvil-auth-penalty {\n    mode = 0\n  }\n}\n"
        << "passdb {\n  driver = pam\n  args = " << pam_service_ << "\n}\n"
        << "userdb {\n  driver = static\n  args = uid=nobody gid=nogroup home=" << d
        << "/home/%u\n}\n"
        << "mail_location = maildir:" << d << "/mail/%u\n"
        << "service imap-login {\n"
        << "  inet_listener imap {\n    address = 127.0.0.1\n    port = " << port_ << "\n  }\n"
        << "  inet_listener imaps {\n    port = 0\n  }\n"
        << "}\n";
    dovecot_ = Process::start({kDovecot, "-F", "-c", (dovecot_dir_ / "dovecot.conf").string()},
                              dovecot_dir_ / "dovecot.out");
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (!port_accepts(port_) && std::chrono::steady_clock::now() < deadline) {
      ASSERT_TRUE(dovecot_.running()) << "Dovecot exited:\n" << dovecot_output();
      std::this_thread::sleep_for(50ms);
    }
    ASSERT_TRUE(port_accepts(port_)) << "Dovecot did not listen:\n" << dovecot_output();
  }

  std::string dovecot_log() const { return read_file(dovecot_dir_ / "dovecot.log"); }
  std::string dovecot_output() const {
    return read_file(dovecot_dir_ / "dovecot.out") + dovecot_log();
  }

  // Waits up to 5 s for `text` to appear in Dovecot's log after `from` (its size earlier).
  bool log_shows(const std::string& text, std::size_t from) const {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    do {
      const std::string log = dovecot_log();
      if (log.size() > from && log.find(text, from) != std::string::npos) return true;
      std::this_thread::sleep_for(50ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
  }

  // Logs in over IMAP and lists the mailboxes; the curl configuration (with the password)
  // goes through standard input, never the command line.
  CommandResult imap_login(const std::string& user, const std::string& password) {
    const std::string config = "url = \"imap://127.0.0.1:" + std::to_string(port_) + "/\"\n" +
                               "user = \"" + user + ":" + password + "\"\n";
    return run_command({kCurl, "--silent", "--show-error", "--max-time", "40", "--config", "-"},
                       config);
  }

  CommandResult touchpass(std::vector<std::string> args, const std::string& input = "",
                          std::optional<std::pair<uid_t, gid_t>> as = std::nullopt) {
    args.insert(args.begin(), {TOUCHPASS_BINARY, "--socket", deployment_->socket().string()});
    return run_command(args, input, as);
  }

  // Enrolls the token for the user `as` runs as, if not done yet, and issues an app password.
  std::string issue(std::pair<uid_t, gid_t> as, const std::string& name,
                    const std::string& scopes = "") {
    if (!enrolled_.contains(as.first)) {
      auto enrolled = touchpass({"enroll", "--pin-stdin"}, "123456\n", as);
      EXPECT_EQ(enrolled.exit_code, 0) << enrolled.err;
      enrolled_.insert(as.first);
    }
    std::vector<std::string> args = {"issue", name, "--pin-stdin"};
    if (!scopes.empty()) args.insert(args.end(), {"--scope", scopes});
    auto issued = touchpass(args, "123456\n", as);
    EXPECT_EQ(issued.exit_code, 0) << issued.err;
    if (!issued.out.empty() && issued.out.back() == '\n') issued.out.pop_back();
    return issued.out;
  }

  // `touchpass verify` as root (a permitted caller): its exit status.
  int cli_verify(const std::string& user, const std::string& password) {
    return touchpass({"verify", "--user", user, "--service", "imap", "--remote", "127.0.0.1"},
                     password + "\n")
        .exit_code;
  }

  std::unique_ptr<Deployment> deployment_;
  std::string pam_service_;
  fs::path pam_file_;
  fs::path dovecot_dir_;
  int port_ = -1;
  Process dovecot_;
  std::set<uid_t> enrolled_;
};

const std::pair<uid_t, gid_t> kAsNobody{kNobody, kNogroup};
const std::pair<uid_t, gid_t> kAsDaemonUser{kDaemonUser, kDaemonGroup};

TEST_F(DovecotTest, AnIssuedAppPasswordLogsInOverImap) {
  const std::string password = issue(kAsNobody, "thunderbird", "imap,smtp");
  ASSERT_EQ(password.size(), 24u) << password;
  auto login = imap_login("nobody", password);
  EXPECT_EQ(login.exit_code, 0) << login.err << dovecot_log();
  EXPECT_NE(login.out.find("INBOX"), std::string::npos) << login.out;
  // What a person might type works too: upper case, spaces for dashes.
  std::string typed = password;
  for (char& c : typed) c = c == '-' ? ' ' : static_cast<char>(std::toupper(c));
  EXPECT_EQ(imap_login("nobody", typed).exit_code, 0);
  EXPECT_EQ(cli_verify("nobody", password), 0);
  // touchpassd records the use (in batches, every few seconds).
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  std::string last_service;
  while (last_service.empty() && std::chrono::steady_clock::now() < deadline) {
    auto listed = touchpass({"list", "--json"}, "", kAsNobody);
    const Json grants = Json::parse(listed.out, nullptr, false)["grants"];
    if (grants.is_array() && grants.size() == 1) last_service = grants[0].value("last_service", "");
    if (last_service.empty()) std::this_thread::sleep_for(500ms);
  }
  EXPECT_EQ(last_service, "imap");
}

TEST_F(DovecotTest, WrongRevokedOutOfScopeExpiredAndOtherUsersPasswordsAreRefused) {
  const std::string mail = issue(kAsNobody, "mail", "imap");
  const std::string phone = issue(kAsNobody, "phone");
  const std::string smtp_only = issue(kAsNobody, "smtp-only", "smtp");
  const std::string theirs = issue(kAsDaemonUser, "their-mail", "imap");
  ASSERT_EQ(imap_login("nobody", mail).exit_code, 0) << dovecot_log();
  ASSERT_EQ(imap_login("nobody", phone).exit_code, 0) << dovecot_log();
  ASSERT_EQ(imap_login("daemon", theirs).exit_code, 0) << dovecot_log();

  std::size_t mark = dovecot_log().size();
  std::string wrong = mail;
  wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
  auto refused = imap_login("nobody", wrong);
  EXPECT_EQ(refused.exit_code, kCurlLoginDenied) << refused.err;
  EXPECT_TRUE(log_shows(
      std::string("pam_authenticate() failed: ") + pam_strerror(nullptr, PAM_AUTH_ERR), mark))
      << dovecot_log();

  ASSERT_EQ(touchpass({"revoke", "phone"}, "", kAsNobody).exit_code, 0);
  EXPECT_EQ(imap_login("nobody", phone).exit_code, kCurlLoginDenied);

  EXPECT_EQ(imap_login("nobody", smtp_only).exit_code, kCurlLoginDenied);

  EXPECT_EQ(imap_login("nobody", theirs).exit_code, kCurlLoginDenied);
  EXPECT_EQ(imap_login("daemon", mail).exit_code, kCurlLoginDenied);

  // An app password that expires in a few seconds (the raw protocol: the CLI takes dates and
  // durations only).
  const std::int64_t expires = unix_now() + 4;
  auto issued = call_as(
      kNobody, kNogroup, deployment_->socket(),
      Json{
          {"v", 1}, {"op", "issue"}, {"name", "brief"}, {"scopes", {"imap"}}, {"expires", expires}},
      "123456");
  ASSERT_TRUE(issued && issued->final.kind == ipc::Reply::Kind::ok)
      << (issued ? issued->final.error.message : "no answer");
  const std::string brief = issued->secret;
  if (unix_now() < expires - 1) {
    EXPECT_EQ(imap_login("nobody", brief).exit_code, 0);
  }
  while (unix_now() <= expires) std::this_thread::sleep_for(200ms);
  EXPECT_EQ(imap_login("nobody", brief).exit_code, kCurlLoginDenied);

  // The CLI agrees, with its exit statuses for scripts.
  EXPECT_EQ(cli_verify("nobody", mail), 0);
  for (const std::string& password : {wrong, phone, smtp_only, theirs, brief}) {
    EXPECT_EQ(cli_verify("nobody", password), 1);
  }

  // touchpassd's audit log has the reasons the services were not told.
  auto log = touchpass({"log", "--json", "--all-users"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  for (const char* reason :
       {"unknown password", "revoked app password \\\"phone\\\"",
        "app password \\\"smtp-only\\\" is not for imap", "a password that is not this user's",
        "expired app password \\\"brief\\\""}) {
    EXPECT_NE(log.out.find(reason), std::string::npos) << reason;
  }
}

TEST_F(DovecotTest, WithTouchpassdDownTheLoginFailsAndDovecotLogsATemporaryFailure) {
  const std::string password = issue(kAsNobody, "mail", "imap");
  ASSERT_EQ(imap_login("nobody", password).exit_code, 0) << dovecot_log();

  deployment_->stop_daemon();
  const std::size_t mark = dovecot_log().size();
  const auto start = std::chrono::steady_clock::now();
  auto login = imap_login("nobody", password);
  // Dovecot 2.3 tells the client "NO [AUTHENTICATIONFAILED]" here too; only its log differs.
  EXPECT_NE(login.exit_code, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
  EXPECT_TRUE(log_shows(
      std::string("pam_authenticate() failed: ") + pam_strerror(nullptr, PAM_AUTHINFO_UNAVAIL),
      mark))
      << dovecot_log().substr(mark);
  EXPECT_EQ(cli_verify("nobody", password), 3);

  // Back up: the same password works again.
  ASSERT_TRUE(deployment_->start_daemon()) << deployment_->daemon_log();
  EXPECT_EQ(imap_login("nobody", password).exit_code, 0) << dovecot_log();
}

}  // namespace
}  // namespace touchpass::testing
