// The fixture of the Dovecot end-to-end tests (dovecot_test.cpp, which says what they prove):
// a real Dovecot from Debian 12's stock configuration with README.md's documented changes,
// touchpassd and a virtual token, Unix users the test adds and removes, and clients for IMAP,
// POP3 and SMTP AUTH. Shared with the browser test (web_dovecot_test.cpp).
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <security/pam_appl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "daemon/daemon_harness.h"

namespace touchpass::testing {

using namespace std::chrono_literals;
using ipc::Json;

constexpr const char* kDovecot = "/usr/sbin/dovecot";
constexpr const char* kDovecotImap = "/usr/lib/dovecot/imap";
constexpr const char* kDovecotPop3 = "/usr/lib/dovecot/pop3";
constexpr const char* kCurl = "/usr/bin/curl";
// The stock configuration as the packages ship it; /etc/dovecot holds copies, maybe edited.
inline const fs::path kStockConfig = "/usr/share/dovecot";
inline const fs::path kShipped = TOUCHPASS_DOVECOT_DIR;
constexpr int kCurlLoginDenied = 67;                               // CURLE_LOGIN_DENIED
constexpr const char* kUserComment = "touchpass end-to-end test";  // of the Unix users it adds
inline const char* const kProtocols[] = {"imap", "pop3", "smtp"};

// A TCP port on 127.0.0.1 that nothing listens on right now.
inline int free_port() {
  const UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return -1;
  }
  return ntohs(address.sin_port);
}

inline bool port_accepts(int port) {
  const UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
}

inline std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// `bytes` random bytes as hex.
inline std::string random_hex(std::size_t bytes) {
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  std::string hex;
  for (std::size_t i = 0; i < bytes; ++i) {
    constexpr char kDigits[] = "0123456789abcdef";
    const auto byte = static_cast<unsigned char>(urandom.get());
    hex += kDigits[byte >> 4];
    hex += kDigits[byte & 0xf];
  }
  return hex;
}

inline std::string base64(const std::string& bytes) {
  constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  auto byte = [&](std::size_t i) -> std::uint32_t {
    return i < bytes.size() ? static_cast<unsigned char>(bytes[i]) : 0u;
  };
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::uint32_t group = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += kAlphabet[(group >> 18) & 63];
    out += kAlphabet[(group >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(group >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[group & 63] : '=';
  }
  return out;
}

// `text` with its one occurrence of `from` replaced by `to`. A test failure, and `text`
// unchanged, when `from` does not occur exactly once: a shipped file or the README changed shape.
inline std::string replace_once(std::string text, const std::string& from, const std::string& to,
                                const std::string& where) {
  const std::size_t at = text.find(from);
  if (at == std::string::npos || text.find(from, at + 1) != std::string::npos) {
    ADD_FAILURE() << where << ": expected exactly one \"" << from << "\"";
    return text;
  }
  return text.replace(at, from.size(), to);
}

// A change of some lines of a file: the text it removes and the text it puts in its place.
struct TextEdit {
  std::string before;
  std::string after;
};

// The edit README.md documents for conf.d/10-auth.conf: the ```diff block whose header names that
// file. Its context and '-' lines make `before`, its context and '+' lines `after`.
inline std::optional<TextEdit> documented_10_auth_edit() {
  const std::string readme = read_file(TOUCHPASS_README);
  const std::string fence = "```diff\n";
  for (std::size_t at = readme.find(fence); at != std::string::npos;
       at = readme.find(fence, at + 1)) {
    const std::size_t begin = at + fence.size();
    const std::size_t end = readme.find("```", begin);
    if (end == std::string::npos) break;
    std::istringstream block(readme.substr(begin, end - begin));
    TextEdit edit;
    bool for_10_auth = false;
    for (std::string line; std::getline(block, line);) {
      if (line.starts_with("--- ") || line.starts_with("+++ ")) {
        for_10_auth = for_10_auth || line.find("conf.d/10-auth.conf") != std::string::npos;
        continue;
      }
      if (line.empty()) line = " ";
      if (line[0] != '+') edit.before += line.substr(1) + "\n";
      if (line[0] != '-') edit.after += line.substr(1) + "\n";
    }
    if (for_10_auth) return edit;
  }
  return std::nullopt;
}

// A Unix account the test creates (useradd) and removes, with a random Unix password.
struct UnixUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string unix_password;
  std::pair<uid_t, gid_t> ids() const { return {uid, gid}; }
};

// Which passdbs Dovecot gets.
enum class Auth {
  documented,          // README.md's edit: ours in place of the stock system passdb
  system_passdb_kept,  // ours added, the stock auth-system.conf.ext (PAM service dovecot) kept
};

// A PAM conversation that answers every prompt for a password with `appdata` (a std::string).
inline int answer_with_password(int count, const pam_message** messages, pam_response** responses,
                                void* appdata) {
  auto* replies = static_cast<pam_response*>(
      std::calloc(static_cast<std::size_t>(count), sizeof(pam_response)));
  if (replies == nullptr) return PAM_BUF_ERR;
  for (int i = 0; i < count; ++i) {
    if (messages[i]->msg_style == PAM_PROMPT_ECHO_OFF) {
      replies[i].resp = ::strdup(static_cast<const std::string*>(appdata)->c_str());
    }
  }
  *responses = replies;
  return PAM_SUCCESS;
}

// pam_authenticate() for `user` and `password` through the PAM service `service`.
inline int pam_check(const std::string& service, const std::string& user, std::string password) {
  const pam_conv conversation{answer_with_password, &password};
  pam_handle_t* handle = nullptr;
  int result = ::pam_start(service.c_str(), user.c_str(), &conversation, &handle);
  if (result == PAM_SUCCESS) result = ::pam_authenticate(handle, PAM_SILENT);
  ::pam_end(handle, result);
  return result;
}

class DovecotTest : public ::testing::Test {
 protected:
  // The passdbs this fixture gives Dovecot.
  virtual Auth auth() const { return Auth::documented; }

  void SetUp() override {
    if (TOUCHPASS_SANITIZED) {
      GTEST_SKIP() << "an ASan-built pam_touchpass.so cannot be loaded into Dovecot";
    }
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs root: it adds Unix users and /etc/pam.d/touchpass-e2e-PID-* files "
                      "and runs Dovecot";
    }
    for (const char* program : {kDovecot, kDovecotImap, kDovecotPop3, kCurl}) {
      if (::access(program, X_OK) != 0) {
        GTEST_SKIP() << "needs " << program
                     << " (Debian packages dovecot-core, dovecot-imapd, dovecot-pop3d, curl)";
      }
    }
    Deployment::Options options;
    options.extra_config = "failure_delay_ms = 0\n";  // keep the test quick; delays: verify_test
    deployment_ = std::make_unique<Deployment>(options);
    ASSERT_TRUE(deployment_->start_token());
    ASSERT_TRUE(deployment_->start_daemon()) << deployment_->daemon_log();
    // Users other than root may use the virtual token (a USB key: the user at the seat).
    ASSERT_EQ(::chmod(deployment_->token_socket().c_str(), 0666), 0);

    char dir_template[] = "/tmp/touchpass-dovecot-XXXXXX";
    dir_ = ::mkdtemp(dir_template);
    ASSERT_FALSE(dir_.empty());
    ::chmod(dir_.c_str(), 0755);  // Dovecot's login and mail processes traverse it
    fs::create_directories(dir_ / "home");
    ::chmod((dir_ / "home").c_str(), 0755);
    remove_leftovers_of_killed_runs();
    const std::string id = std::to_string(::getpid());
    ASSERT_NO_FATAL_FAILURE(add_unix_user("tpe2e-" + id + "-alice", alice_));
    ASSERT_NO_FATAL_FAILURE(add_unix_user("tpe2e-" + id + "-bob", bob_));

    pam_prefix_ = "touchpass-e2e-" + id + "-";
    ASSERT_NO_FATAL_FAILURE(install_pam_services());
    ASSERT_NO_FATAL_FAILURE(start_dovecot());
  }

  void TearDown() override {
    if (dovecot_.pid() > 0) dovecot_.stop(SIGTERM);
    std::error_code ec;
    for (const fs::path& file : pam_files_) fs::remove(file, ec);
    for (const std::string& name : users_) {
      auto removed = run_command({"/usr/sbin/userdel", "--remove", name});
      EXPECT_EQ(removed.exit_code, 0) << "userdel " << name << ": " << removed.err;
    }
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  // Removes what runs killed before their TearDown (ctest's timeout) left behind: Unix users and
  // PAM service files named after a process that is gone.
  static void remove_leftovers_of_killed_runs() {
    // Whether `name` is `prefix`, a process id and "-", and that process is gone.
    auto gone = [](std::string_view name, std::string_view prefix) {
      if (!name.starts_with(prefix)) return false;
      name.remove_prefix(prefix.size());
      pid_t pid = 0;
      const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), pid);
      return error == std::errc() && pid > 0 && end != name.data() + name.size() && *end == '-' &&
             ::kill(pid, 0) != 0 && errno == ESRCH;
    };
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/etc/pam.d", ec)) {
      if (gone(entry.path().filename().string(), "touchpass-e2e-")) files.push_back(entry.path());
    }
    for (const fs::path& file : files) fs::remove(file, ec);
    std::vector<std::string> users;
    ::setpwent();
    while (const passwd* entry = ::getpwent()) {
      if (gone(entry->pw_name, "tpe2e-") && std::string(entry->pw_gecos) == kUserComment) {
        users.emplace_back(entry->pw_name);
      }
    }
    ::endpwent();
    for (const std::string& name : users) run_command({"/usr/sbin/userdel", "--remove", name});
  }

  // Creates the Unix user `name`, home under the test's directory, with a random Unix password.
  void add_unix_user(const std::string& name, UnixUser& user) {
    auto added = run_command({"/usr/sbin/useradd", "--create-home", "--home-dir",
                              (dir_ / "home" / name).string(), "--shell", "/usr/sbin/nologin",
                              "--comment", kUserComment, name});
    ASSERT_EQ(added.exit_code, 0) << added.err;
    users_.push_back(name);
    user.name = name;
    user.unix_password = random_hex(12);
    auto set = run_command({"/usr/sbin/chpasswd"}, name + ":" + user.unix_password + "\n");
    ASSERT_EQ(set.exit_code, 0) << set.err;
    const passwd* entry = ::getpwnam(name.c_str());
    ASSERT_NE(entry, nullptr) << name;
    user.uid = entry->pw_uid;
    user.gid = entry->pw_gid;
  }

  // The shipped PAM service files as /etc/pam.d/PREFIX-PROTOCOL. What the prefix changes is put
  // back with service=PROTOCOL; the module is the one just built, talking to the test's daemon.
  void install_pam_services() {
    for (const char* protocol : kProtocols) {
      const fs::path shipped = kShipped / "pam.d" / protocol;
      const std::string text = read_file(shipped);
      ASSERT_FALSE(text.empty()) << shipped;
      const fs::path file = fs::path("/etc/pam.d") / (pam_prefix_ + protocol);
      pam_files_.push_back(file);
      const std::string module = std::string(" ") + PAM_TOUCHPASS_MODULE +
                                 " socket=" + deployment_->socket().string() +
                                 " service=" + protocol + "\n";
      std::ofstream(file) << "# touchpass end-to-end test; removed when the test ends\n"
                          << replace_once(text, " pam_touchpass.so\n", module, shipped.string());
      ASSERT_TRUE(fs::exists(file));
    }
  }

  // Debian's stock configuration with the documented changes (or, for auth() ==
  // system_passdb_kept, the mistake they prevent) and the test's local.conf; then Dovecot.
  void start_dovecot() {
    const fs::path etc = dir_ / "etc";
    fs::create_directories(etc);
    fs::copy_file(kStockConfig / "dovecot.conf", etc / "dovecot.conf");
    fs::copy(kStockConfig / "conf.d", etc / "conf.d", fs::copy_options::recursive);

    // No TLS in the test (ssl = no below). Even so, the stock 10-ssl.conf would make Dovecot
    // read /etc/dovecot/private/dovecot.{pem,key} (ssl-cert's snakeoil pair, if installed).
    const fs::path ssl_conf = etc / "conf.d" / "10-ssl.conf";
    std::string ssl = read_file(ssl_conf);
    for (const char* line : {"ssl_cert = </etc/dovecot/private/dovecot.pem\n",
                             "ssl_key = </etc/dovecot/private/dovecot.key\n"}) {
      ssl = replace_once(ssl, line, "", "Debian's conf.d/10-ssl.conf");
    }
    std::ofstream(ssl_conf) << ssl;

    const fs::path shipped = kShipped / "auth-touchpass.conf.ext";
    std::ofstream(etc / "conf.d" / "auth-touchpass.conf.ext") << replace_once(
        read_file(shipped), "args = %s\n", "args = " + pam_prefix_ + "%s\n", shipped.string());

    const fs::path auth_conf = etc / "conf.d" / "10-auth.conf";
    const std::string stock = read_file(auth_conf);
    ASSERT_FALSE(stock.empty()) << auth_conf;
    TextEdit edit{"!include auth-system.conf.ext\n",
                  "!include auth-system.conf.ext\n!include auth-touchpass.conf.ext\n"};
    if (auth() == Auth::documented) {
      const auto documented = documented_10_auth_edit();
      ASSERT_TRUE(documented) << "README.md has no ```diff block for conf.d/10-auth.conf";
      edit = *documented;
    }
    std::ofstream(auth_conf) << replace_once(stock, "\n" + edit.before, "\n" + edit.after,
                                             "Debian's conf.d/10-auth.conf");

    imap_port_ = free_port();
    pop3_port_ = free_port();
    while (pop3_port_ == imap_port_) pop3_port_ = free_port();
    ASSERT_GT(imap_port_, 0);
    ASSERT_GT(pop3_port_, 0);
    const std::string d = dir_.string();
    std::ofstream(etc / "local.conf")
        << "# The end-to-end test's own settings.\n"
        << "base_dir = " << d << "/run\n"
        << "state_dir = " << d << "/state\n"
        << "log_path = " << d << "/dovecot.log\n"
        << "protocols = imap pop3\n"
        << "listen = 127.0.0.1\n"
        << "ssl = no\n"
        << "mail_location = maildir:~/Maildir\n"
        << "auth_verbose = yes\n"
        << "auth_debug = yes\n"
        << "auth_failure_delay = 0\n"
        // No growing delay from Dovecot's own brute-force protection (anvil) either.
        << "service anvil {\n  unix_listener anvil-auth-penalty {\n    mode = 0\n  }\n}\n"
        << "service imap-login {\n"
        << "  inet_listener imap {\n    port = " << imap_port_ << "\n  }\n"
        << "  inet_listener imaps {\n    port = 0\n  }\n"
        << "}\n"
        << "service pop3-login {\n"
        << "  inet_listener pop3 {\n    port = " << pop3_port_ << "\n  }\n"
        << "  inet_listener pop3s {\n    port = 0\n  }\n"
        << "}\n";
    dovecot_ = Process::start({kDovecot, "-F", "-c", (etc / "dovecot.conf").string()},
                              dir_ / "dovecot.out");
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (!(port_accepts(imap_port_) && port_accepts(pop3_port_)) &&
           std::chrono::steady_clock::now() < deadline) {
      ASSERT_TRUE(dovecot_.running()) << "Dovecot exited:\n" << dovecot_output();
      std::this_thread::sleep_for(50ms);
    }
    ASSERT_TRUE(port_accepts(imap_port_) && port_accepts(pop3_port_)) << "Dovecot did not listen:\n"
                                                                      << dovecot_output();
  }

  std::string dovecot_log() const { return read_file(dir_ / "dovecot.log"); }
  std::string dovecot_output() const { return read_file(dir_ / "dovecot.out") + dovecot_log(); }

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

  // Logs in over IMAP (and lists the mailboxes) or POP3 (and lists the messages); the curl
  // configuration, with the password, goes through standard input, never the command line.
  CommandResult login(const std::string& protocol, const std::string& user,
                      const std::string& password) {
    const int port = protocol == "imap" ? imap_port_ : pop3_port_;
    const std::string config = "url = \"" + protocol + "://127.0.0.1:" + std::to_string(port) +
                               "/\"\nuser = \"" + user + ":" + password + "\"\n";
    return run_command({kCurl, "--silent", "--show-error", "--max-time", "40", "--config", "-"},
                       config);
  }
  int imap_login(const std::string& user, const std::string& password) {
    return login("imap", user, password).exit_code;
  }
  int pop3_login(const std::string& user, const std::string& password) {
    return login("pop3", user, password).exit_code;
  }

  // Postfix's SMTP AUTH with smtpd_sasl_type = dovecot: one PLAIN request for the service
  // "smtp", as Postfix sends it, on Dovecot's auth-client socket (the README's private/auth
  // listener is another socket of the same auth service). Dovecot's answer: "OK", "FAIL", or
  // "" when there was none.
  std::string smtp_auth(const std::string& user, const std::string& password) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::string path = (dir_ / "run" / "auth-client").string();
    if (path.size() >= sizeof address.sun_path) return "";
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    const UniqueFd connection(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!connection.valid()) return "";
    const int fd = connection.get();
    const timeval timeout{30, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    std::string buffer;
    // The next line from Dovecot, without its newline; nullopt when the connection ended.
    auto read_line = [&]() -> std::optional<std::string> {
      std::size_t end;
      while ((end = buffer.find('\n')) == std::string::npos) {
        char chunk[1024];
        const ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n <= 0) return std::nullopt;
        buffer.append(chunk, static_cast<std::size_t>(n));
      }
      std::string line = buffer.substr(0, end);
      buffer.erase(0, end + 1);
      return line;
    };
    auto send = [&](const std::string& text) {
      return ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    };
    std::string answer;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
        send("VERSION\t1\t0\nCPID\t" + std::to_string(::getpid()) + "\n")) {
      // The handshake (VERSION, MECH, SPID, CUID, COOKIE) holds nothing the request needs.
      std::optional<std::string> line;
      while ((line = read_line()) && *line != "DONE") continue;
      const std::string initial = std::string(1, '\0') + user + '\0' + password;
      if (line && send("AUTH\t1\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=127.0.0.1"
                       "\tsecured\tresp=" +
                       base64(initial) + "\n")) {
        line = read_line();
        if (line) answer = line->substr(0, line->find('\t'));
      }
    }
    return answer;
  }

  CommandResult touchpass(std::vector<std::string> args, const std::string& input = "",
                          std::optional<std::pair<uid_t, gid_t>> as = std::nullopt) {
    const auto cli = deployment_->cli();
    args.insert(args.begin(), cli.begin(), cli.end());
    return run_command(args, input, as);
  }

  // Enrolls the token for `user`, if not done yet, and issues an app password as that user, for
  // `scopes` (empty: every service).
  std::string issue(const UnixUser& user, const std::string& name, const std::string& scopes = "") {
    if (!enrolled_.contains(user.uid)) {
      auto enrolled = touchpass({"enroll", "--pin-stdin"}, "123456\n", user.ids());
      EXPECT_EQ(enrolled.exit_code, 0) << enrolled.err;
      enrolled_.insert(user.uid);
    }
    std::vector<std::string> args = {"issue", name, "--pin-stdin", "--scope",
                                     scopes.empty() ? "all" : scopes};
    auto issued = touchpass(args, "123456\n", user.ids());
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
  fs::path dir_;
  std::vector<std::string> users_;  // to remove
  UnixUser alice_;
  UnixUser bob_;
  std::string pam_prefix_;
  std::vector<fs::path> pam_files_;  // to remove
  int imap_port_ = -1;
  int pop3_port_ = -1;
  Process dovecot_;
  std::set<uid_t> enrolled_;
};

}  // namespace touchpass::testing
