// The module's exchange with touchpassd (pam/verify_client.h), called directly: the password
// goes only to a listener the kernel says is root or daemon_user, and when someone else answers
// the verdict's log detail names the uid that did.
#include "pam/verify_client.h"

#include <gtest/gtest.h>
#include <pwd.h>

#include "support/fake_daemon_gtest.h"

namespace touchpass::pam::testing {
namespace {

using namespace std::chrono_literals;
using touchpass::testing::after_request;
using touchpass::testing::DaemonConnection;
using touchpass::testing::FakeDaemon;
using touchpass::testing::FakeDaemonOptions;
using touchpass::testing::listening_daemon;
using touchpass::testing::Script;

constexpr uid_t kNobody = 65534;
constexpr std::string_view kPassword = "k7qm-x9fj-4tca-2hwe-p3vn";

Verdict verify(const FakeDaemon& daemon, const std::string& daemon_user) {
  const SecretBytes password = SecretBytes::copy_of(kPassword);
  return verify_with_daemon(daemon.path(), daemon_user, {"alice", "imap", ""}, password, 2s);
}

class VerifyClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to listen as another user";
  }
};

TEST_F(VerifyClientTest, AListenerOfAnotherUidIsUnavailableAndTheDetailNamesItsUid) {
  auto impostor = listening_daemon(after_request([](DaemonConnection& d) { d.ok(); }),
                                   FakeDaemonOptions::running_as(kNobody));
  ASSERT_TRUE(impostor.ok()) << impostor.error().message;
  const Verdict verdict = verify(*impostor, "touchpass-no-such-user");
  EXPECT_EQ(verdict.kind, Verdict::Kind::unavailable);
  EXPECT_NE(verdict.detail.find("uid 65534"), std::string::npos) << verdict.detail;
  EXPECT_NE(verdict.detail.find("touchpass-no-such-user (no such user)"), std::string::npos)
      << verdict.detail;
  EXPECT_NE(verdict.detail.find("not sent"), std::string::npos) << verdict.detail;
  impostor->stop();
  ASSERT_EQ(impostor->conversations().size(), 1u);
  EXPECT_TRUE(impostor->conversations()[0].silent()) << "the module sent something";
}

TEST_F(VerifyClientTest, AListenerThatIsNotTheDaemonUserIsUnavailable) {
  const passwd* daemon_user = ::getpwnam("daemon");
  if (daemon_user == nullptr) GTEST_SKIP() << "needs the system user daemon";
  const uid_t daemon_uid = daemon_user->pw_uid;
  auto impostor = listening_daemon(after_request([](DaemonConnection& d) { d.ok(); }),
                                   FakeDaemonOptions::running_as(kNobody));
  ASSERT_TRUE(impostor.ok()) << impostor.error().message;
  const Verdict verdict = verify(*impostor, "daemon");
  EXPECT_EQ(verdict.kind, Verdict::Kind::unavailable);
  EXPECT_NE(verdict.detail.find("runs as uid 65534, not as root or daemon (uid " +
                                std::to_string(daemon_uid) + ")"),
            std::string::npos)
      << verdict.detail;
  impostor->stop();
  ASSERT_EQ(impostor->conversations().size(), 1u);
  EXPECT_TRUE(impostor->conversations()[0].silent()) << "the module sent something";
}

TEST_F(VerifyClientTest, TheDaemonUserAndRootAreAnswered) {
  auto as_nobody = listening_daemon(after_request([](DaemonConnection& d) { d.ok(); }),
                                    FakeDaemonOptions::running_as(kNobody));
  ASSERT_TRUE(as_nobody.ok()) << as_nobody.error().message;
  EXPECT_EQ(verify(*as_nobody, ::getpwuid(kNobody)->pw_name).kind, Verdict::Kind::accepted);
  as_nobody->stop();
  const auto received = as_nobody->conversations();
  ASSERT_EQ(received.size(), 1u);
  ASSERT_EQ(received[0].requests.size(), 1u);
  EXPECT_EQ(received[0].requests[0].secret, kPassword);

  auto as_root = listening_daemon(
      after_request([](DaemonConnection& d) { d.error(Code::refused, "Refused."); }));
  ASSERT_TRUE(as_root.ok()) << as_root.error().message;
  EXPECT_EQ(verify(*as_root, "touchpass-no-such-user").kind, Verdict::Kind::refused);
}

// An ok answer whose JSON nests `levels` deep in all: the message, its result, and arrays.
std::string nested_ok_reply(int levels) {
  const auto arrays = static_cast<std::size_t>(levels - 2);
  return R"({"v":1,"ok":true,"result":{"a":)" + std::string(arrays, '[') +
         std::string(arrays, ']') + "}}";
}

// The module's own user runs the fake daemon, so it is the daemon user here.
std::string own_user_name() {
  const passwd* own = ::getpwuid(::geteuid());
  return own != nullptr ? own->pw_name : "root";
}

TEST(VerifyClientDepthTest, AnAnswerNestedTooDeeplyIsNoVerdictAndNoCrash) {
  const std::string deep = nested_ok_reply(32000);  // as deep as a frame allows
  ASSERT_LE(deep.size(), ipc::kMaxJsonSize);
  auto daemon = listening_daemon(after_request([&deep](DaemonConnection& d) { d.send(deep); }));
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  const Verdict verdict = verify(*daemon, own_user_name());
  EXPECT_EQ(verdict.kind, Verdict::Kind::unavailable);
  EXPECT_NE(verdict.detail.find("nests too deeply"), std::string::npos) << verdict.detail;
}

TEST(VerifyClientDepthTest, AnAnswerJustWithinTheDepthLimitIsAccepted) {
  const std::string shallow = nested_ok_reply(ipc::kMaxJsonDepth);
  auto daemon =
      listening_daemon(after_request([&shallow](DaemonConnection& d) { d.send(shallow); }));
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  const Verdict verdict = verify(*daemon, own_user_name());
  EXPECT_EQ(verdict.kind, Verdict::Kind::accepted) << verdict.detail;
}

}  // namespace
}  // namespace touchpass::pam::testing
