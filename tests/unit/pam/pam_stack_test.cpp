// pam_touchpass.so driven through the real libpam: a private PAM configuration directory
// (pam_start_confdir) holds a service file "auth required <module> ARGS", a conversation
// supplies the password, and a fake touchpassd answers. Proves the module's contract: the
// daemon's acceptance is the only PAM_SUCCESS; a refusal is PAM_AUTH_ERR; a daemon that is
// down, broken or silent is PAM_AUTHINFO_UNAVAIL within the timeout; bad arguments are
// PAM_SERVICE_ERR; no user or password is PAM_AUTH_ERR without asking the daemon; a daemon
// whose socket is not held by root or the daemon's user gets no byte of the password.
#include <pwd.h>
#include <security/pam_appl.h>
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>

#include "support/fake_daemon_gtest.h"

namespace touchpass::pam::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using ipc::Json;
using touchpass::testing::after_request;
using touchpass::testing::DaemonConnection;
using touchpass::testing::FakeDaemon;
using touchpass::testing::FakeDaemonOptions;
using touchpass::testing::listening_daemon;
using touchpass::testing::Script;

constexpr const char* kPassword = "k7qm-x9fj-4tca-2hwe-p3vn";
constexpr uid_t kNobody = 65534;

// What the conversation answers.
struct Credentials {
  std::optional<std::string> password;  // nullopt: the conversation fails
  std::optional<std::string> user;      // for a user prompt; nullopt: the conversation fails
};

int converse(int count, const pam_message** messages, pam_response** responses, void* data) {
  const auto* credentials = static_cast<const Credentials*>(data);
  auto* out = static_cast<pam_response*>(
      std::calloc(static_cast<std::size_t>(count), sizeof(pam_response)));
  if (out == nullptr) return PAM_BUF_ERR;
  for (int i = 0; i < count; ++i) {
    const std::optional<std::string>* answer = nullptr;
    if (messages[i]->msg_style == PAM_PROMPT_ECHO_OFF) answer = &credentials->password;
    if (messages[i]->msg_style == PAM_PROMPT_ECHO_ON) answer = &credentials->user;
    if (answer == nullptr) continue;  // informational messages
    if (!answer->has_value()) {
      for (int j = 0; j < i; ++j) std::free(out[j].resp);
      std::free(out);
      return PAM_CONV_ERR;
    }
    out[i].resp = ::strdup((*answer)->c_str());
  }
  *responses = out;
  return PAM_SUCCESS;
}

// One PAM transaction against a private configuration directory.
class PamStackTest : public ::testing::Test {
 protected:
  PamStackTest() {
    char dir_template[] = "/tmp/touchpass-pam-conf-XXXXXX";
    confdir_ = ::mkdtemp(dir_template);
  }
  ~PamStackTest() override { std::filesystem::remove_all(confdir_); }

  struct Attempt {
    std::string args;
    std::optional<std::string> password = kPassword;
    const char* user = "alice";
    const char* rhost = "192.0.2.7";
    std::string service = "touchpass-test";
  };

  // Runs pam_authenticate for `attempt`; also records how long it took.
  int authenticate(const Attempt& attempt) {
    std::ofstream(confdir_ + "/" + attempt.service)
        << "auth required " << PAM_TOUCHPASS_MODULE << " " << attempt.args << "\n";
    Credentials credentials{attempt.password, std::nullopt};
    const pam_conv conversation{converse, &credentials};
    pam_handle_t* pamh = nullptr;
    EXPECT_EQ(pam_start_confdir(attempt.service.c_str(), attempt.user, &conversation,
                                confdir_.c_str(), &pamh),
              PAM_SUCCESS);
    if (pamh == nullptr) return -1;
    if (attempt.rhost != nullptr) {
      EXPECT_EQ(pam_set_item(pamh, PAM_RHOST, attempt.rhost), PAM_SUCCESS);
    }
    const auto start = Clock::now();
    const int code = pam_authenticate(pamh, 0);
    elapsed_ = Clock::now() - start;
    setcred_ = pam_setcred(pamh, PAM_ESTABLISH_CRED);
    pam_end(pamh, code);
    return code;
  }

  // socket= for `daemon`. A fake daemon runs as the test's user: as root it is accepted by the
  // default daemon_user=; otherwise daemon_user= names the test's user.
  static std::string socket_arg(const FakeDaemon& daemon) {
    std::string arg = "socket=" + daemon.path();
    if (::geteuid() != 0) {
      const passwd* self = ::getpwuid(::geteuid());
      if (self != nullptr) arg += std::string(" daemon_user=") + self->pw_name;
    }
    return arg;
  }

  std::string confdir_;
  Clock::duration elapsed_{};
  int setcred_ = -1;
};

TEST_F(PamStackTest, AnAcceptedPasswordIsSuccessAndTheRequestCarriesUserServiceAndRemote) {
  auto daemon = listening_daemon(after_request([](DaemonConnection& d) { d.ok(); }));
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(authenticate({.args = socket_arg(*daemon) + " service=imap debug"}), PAM_SUCCESS);
  EXPECT_EQ(setcred_, PAM_SUCCESS);
  daemon->stop();
  const auto received = daemon->conversations();
  ASSERT_EQ(received.size(), 1u);
  ASSERT_EQ(received[0].requests.size(), 1u);
  const auto& request = received[0].requests[0];
  EXPECT_EQ(Json::parse(request.json), Json({{"v", 1},
                                             {"op", "verify"},
                                             {"user", "alice"},
                                             {"service", "imap"},
                                             {"remote", "192.0.2.7"}}));
  EXPECT_EQ(request.secret, kPassword);
  EXPECT_EQ(request.json.find(kPassword), std::string::npos);
}

TEST_F(PamStackTest, TheServiceDefaultsToThePamServiceNameAndRemoteIsOptional) {
  auto daemon = listening_daemon(after_request([](DaemonConnection& d) { d.ok(); }));
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(authenticate({.args = socket_arg(*daemon), .rhost = nullptr, .service = "imap"}),
            PAM_SUCCESS);
  daemon->stop();
  const auto received = daemon->conversations();
  ASSERT_EQ(received.size(), 1u);
  ASSERT_EQ(received[0].requests.size(), 1u);
  const Json request = Json::parse(received[0].requests[0].json);
  EXPECT_EQ(request["service"], "imap");
  EXPECT_FALSE(request.contains("remote"));
}

TEST_F(PamStackTest, ARefusedPasswordIsAuthErr) {
  auto daemon = listening_daemon(
      after_request([](DaemonConnection& d) { d.error(Code::refused, "Refused."); }));
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(authenticate({.args = socket_arg(*daemon) + " service=imap"}), PAM_AUTH_ERR);
}

TEST_F(PamStackTest, NoDaemonIsAuthinfoUnavail) {
  EXPECT_EQ(authenticate({.args = "socket=/nonexistent/touchpassd.sock service=imap"}),
            PAM_AUTHINFO_UNAVAIL);
  // A stale socket file that nobody listens on.
  std::string stale;
  {
    auto gone = listening_daemon(after_request([](DaemonConnection&) {}));
    ASSERT_TRUE(gone.ok()) << gone.error().message;
    gone->stop();
    stale = gone->path();
    EXPECT_EQ(authenticate({.args = "socket=" + stale + " service=imap"}), PAM_AUTHINFO_UNAVAIL);
  }
}

// Every way a daemon can fail to give a clean verdict ends in PAM_AUTHINFO_UNAVAIL — never
// PAM_SUCCESS, and never a refusal that would read as a wrong password — within the timeout.
TEST_F(PamStackTest, EveryBrokenOrSilentDaemonIsAuthinfoUnavailNeverSuccess) {
  const auto header = [](std::uint32_t json_size, std::uint16_t secret_size) {
    const char bytes[6] = {static_cast<char>(json_size >> 24),  static_cast<char>(json_size >> 16),
                           static_cast<char>(json_size >> 8),   static_cast<char>(json_size),
                           static_cast<char>(secret_size >> 8), static_cast<char>(secret_size)};
    return std::string(bytes, sizeof bytes);
  };
  const std::vector<std::pair<std::string, Script>> behaviours = {
      {"not JSON", [](DaemonConnection& d) { d.send("ok"); }},
      {"a JSON array", [](DaemonConnection& d) { d.send("[true]"); }},
      {"another version", [](DaemonConnection& d) { d.send(R"({"v":2,"ok":true,"result":{}})"); }},
      {"no version", [](DaemonConnection& d) { d.send(R"({"ok":true,"result":{}})"); }},
      {"ok as a string", [](DaemonConnection& d) { d.send(R"({"v":1,"ok":"true"})"); }},
      {"an event", [](DaemonConnection& d) { d.send(R"({"v":1,"event":"progress","ok":true})"); }},
      {"an unknown error code",
       [](DaemonConnection& d) {
         d.send(R"({"v":1,"ok":false,"error":{"code":"what","message":"Refused."}})");
       }},
      {"an error without a body", [](DaemonConnection& d) { d.send(R"({"v":1,"ok":false})"); }},
      {"io_error", [](DaemonConnection& d) { d.error(Code::io_error, "The store is broken."); }},
      {"internal", [](DaemonConnection& d) { d.error(Code::internal, "Refused."); }},
      {"caller may not verify",
       [](DaemonConnection& d) {
         d.error(Code::permission_denied,
                 "Only root and members of the group touchpass-service may verify passwords.");
       }},
      {"hangs up", [](DaemonConnection&) {}},
      {"hangs up mid-frame",
       [&header](DaemonConnection& d) { d.raw(header(100, 0) + R"({"v":1,"ok":tr)"); }},
      {"an empty frame", [&header](DaemonConnection& d) { d.raw(header(0, 0)); }},
      {"an oversized frame", [&header](DaemonConnection& d) { d.raw(header(0x7fffffff, 0)); }},
      {"an oversized secret",
       [&header](DaemonConnection& d) {
         const std::string json = R"({"v":1,"ok":true})";
         d.raw(header(static_cast<std::uint32_t>(json.size()), 1000) + json);
       }},
      {"never answers", [](DaemonConnection& d) { d.wait_for_hangup(); }},
      {"trickles its answer",
       [&header](DaemonConnection& d) {
         const std::string json = R"({"v":1,"ok":true,"result":{}})";
         const std::string frame = header(static_cast<std::uint32_t>(json.size()), 0) + json;
         for (char c : frame) {
           d.raw(std::string(1, c));
           d.pause(300ms);
         }
       }},
  };
  for (const auto& [name, script] : behaviours) {
    SCOPED_TRACE(name);
    auto daemon = listening_daemon(after_request(script));
    ASSERT_TRUE(daemon.ok()) << daemon.error().message;
    const int code = authenticate({.args = socket_arg(*daemon) + " service=imap timeout=1"});
    EXPECT_EQ(code, PAM_AUTHINFO_UNAVAIL) << pam_strerror(nullptr, code);
    EXPECT_NE(code, PAM_SUCCESS);
    EXPECT_LT(elapsed_, 2s);
  }
}

TEST_F(PamStackTest, ADaemonThatNeverAnswersGivesUpAfterFifteenSecondsByDefault) {
  auto daemon = listening_daemon(after_request([](DaemonConnection& d) { d.wait_for_hangup(); }));
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(authenticate({.args = socket_arg(*daemon) + " service=imap"}), PAM_AUTHINFO_UNAVAIL);
  EXPECT_GE(elapsed_, 14900ms);
  EXPECT_LT(elapsed_, 17s);
}

TEST_F(PamStackTest, BadArgumentsAreServiceErrAndTheDaemonIsNotAsked) {
  auto daemon = listening_daemon(after_request([](DaemonConnection& d) { d.ok(); }));
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  const std::string socket = socket_arg(*daemon);
  for (const std::string& args : std::vector<std::string>{
           socket + " service=imap bogus", socket + " service=IMAP", socket + " service=",
           socket + " service=imap service=smtp", "socket=relative/path service=imap",
           socket + " service=imap timeout=0", socket + " service=imap timeout=1s",
           socket + " service=imap timeout=999", socket + " service=" + std::string(33, 'a'),
           "socket=" + daemon->path() + " service=imap daemon_user=",
           "socket=" + daemon->path() + " service=imap daemon_user=65534",
           "socket=" + daemon->path() + " service=imap daemon_user=no/body",
           "socket=" + daemon->path() + " service=imap daemon_user=nobody daemon_user=root"}) {
    SCOPED_TRACE(args);
    EXPECT_EQ(authenticate({.args = args}), PAM_SERVICE_ERR);
  }
  // No service= and a PAM service name that cannot be a service.
  EXPECT_EQ(authenticate({.args = socket, .service = "touchpass.test"}), PAM_SERVICE_ERR);
  daemon->stop();
  EXPECT_TRUE(daemon->conversations().empty());
}

TEST_F(PamStackTest, NoUsableUserOrPasswordIsAuthErrAndTheDaemonIsNotAsked) {
  auto daemon = listening_daemon(after_request([](DaemonConnection& d) { d.ok(); }));
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  const std::string args = socket_arg(*daemon) + " service=imap";
  EXPECT_EQ(authenticate({.args = args, .password = std::nullopt}), PAM_AUTH_ERR);
  EXPECT_EQ(authenticate({.args = args, .password = ""}), PAM_AUTH_ERR);
  EXPECT_EQ(authenticate({.args = args, .password = std::string(300, 'a')}), PAM_AUTH_ERR);
  EXPECT_EQ(authenticate({.args = args, .user = nullptr}), PAM_AUTH_ERR);  // conversation fails
  EXPECT_EQ(authenticate({.args = args, .user = "al\nice"}), PAM_AUTH_ERR);
  EXPECT_EQ(authenticate({.args = args,
                          .user = "al\xff"
                                  "ice"}),
            PAM_AUTH_ERR);
  // Strict UTF-8 (core/utf8.h): a surrogate and an overlong encoding are not text either.
  EXPECT_EQ(authenticate({.args = args,
                          .user = "al\xed\xa0\x80"
                                  "ice"}),
            PAM_AUTH_ERR);
  EXPECT_EQ(authenticate({.args = args,
                          .user = "al\xe0\x80\xaf"
                                  "ice"}),
            PAM_AUTH_ERR);
  daemon->stop();
  EXPECT_TRUE(daemon->conversations().empty());
}

TEST_F(PamStackTest, AnUncleanRemoteAddressIsLeftOut) {
  auto daemon = listening_daemon(after_request([](DaemonConnection& d) { d.ok(); }));
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(authenticate({.args = socket_arg(*daemon) + " service=imap", .rhost = "evil\n1.2.3.4"}),
            PAM_SUCCESS);
  daemon->stop();
  const auto received = daemon->conversations();
  ASSERT_EQ(received.size(), 1u);
  ASSERT_EQ(received[0].requests.size(), 1u);
  EXPECT_FALSE(Json::parse(received[0].requests[0].json).contains("remote"));
}

// The bytes of this process's memory that is excluded from core dumps (where secrets live), from
// /proc/self/smaps.
std::size_t dump_excluded_bytes() {
  std::ifstream smaps("/proc/self/smaps");
  std::size_t total = 0;
  std::size_t size_kb = 0;
  for (std::string line; std::getline(smaps, line);) {
    if (line.rfind("Size:", 0) == 0) size_kb = std::stoul(line.substr(5));
    if (line.rfind("VmFlags:", 0) == 0 && (line + " ").find(" dd ") != std::string::npos) {
      total += size_kb * 1024;
    }
  }
  return total;
}

// libpam loads the module for each transaction and unloads it at pam_end; the module stays
// resident (-z nodelete) so its pool of locked secret memory is reused, not stranded, by the
// next transaction: a long-lived PAM host (a mail server's auth worker) must not grow.
TEST_F(PamStackTest, ManyTransactionsReuseTheModulesLockedMemory) {
  auto daemon = listening_daemon(after_request([](DaemonConnection& d) { d.ok(); }));
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  const std::string args = socket_arg(*daemon) + " service=imap";
  for (int i = 0; i < 2; ++i) ASSERT_EQ(authenticate({.args = args}), PAM_SUCCESS);
  const std::size_t before = dump_excluded_bytes();
  ASSERT_GT(before, 0u);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(authenticate({.args = args}), PAM_SUCCESS);
  EXPECT_EQ(dump_excluded_bytes(), before);
}

// Whoever can listen on the socket path first (or replace the socket) must not be handed the
// password: the module asks the kernel who listens and talks only to root or daemon_user=.
TEST_F(PamStackTest, ADaemonOfAnotherUserIsAuthinfoUnavailAndGetsNoByteOfThePassword) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to listen as another user";
  const passwd* daemon_user = ::getpwnam("daemon");  // exists, and is not nobody
  for (const std::string& user_arg :
       {std::string(), std::string(" daemon_user=touchpass-no-such-user"),
        std::string(daemon_user != nullptr ? " daemon_user=daemon" : "")}) {
    SCOPED_TRACE(user_arg);
    auto impostor = listening_daemon(after_request([](DaemonConnection& d) { d.ok(); }),
                                     FakeDaemonOptions::running_as(kNobody));
    ASSERT_TRUE(impostor.ok()) << impostor.error().message;
    EXPECT_EQ(authenticate({.args = "socket=" + impostor->path() + " service=imap" + user_arg}),
              PAM_AUTHINFO_UNAVAIL);
    impostor->stop();
    const auto received = impostor->conversations();
    ASSERT_EQ(received.size(), 1u) << "the module connects to find out who listens";
    EXPECT_TRUE(received[0].silent()) << "the module sent something";
  }
}

TEST_F(PamStackTest, DaemonUserNamesTheUserTheDaemonMayRunAs) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to listen as another user";
  ASSERT_NE(::getpwuid(kNobody), nullptr);
  auto daemon = listening_daemon(after_request([](DaemonConnection& d) { d.ok(); }),
                                 FakeDaemonOptions::running_as(kNobody));
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(authenticate({.args = "socket=" + daemon->path() +
                                  " service=imap daemon_user=" + ::getpwuid(kNobody)->pw_name}),
            PAM_SUCCESS);
  daemon->stop();
  const auto received = daemon->conversations();
  ASSERT_EQ(received.size(), 1u);
  ASSERT_EQ(received[0].requests.size(), 1u);
  EXPECT_EQ(received[0].requests[0].secret, kPassword);
}

TEST_F(PamStackTest, ADaemonOfRootIsTrustedWhateverDaemonUserSays) {
  if (::geteuid() != 0) GTEST_SKIP() << "the fake daemon runs as root only when the test does";
  auto daemon = listening_daemon(after_request([](DaemonConnection& d) { d.ok(); }));
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  EXPECT_EQ(authenticate({.args = "socket=" + daemon->path() +
                                  " service=imap daemon_user=touchpass-no-such-user"}),
            PAM_SUCCESS);
}

}  // namespace
}  // namespace touchpass::pam::testing
