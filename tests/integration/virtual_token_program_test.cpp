// The standalone touchpass-virtual-token program, started and stopped by the test, seen through
// VirtualDirectoryDiscovery and the libfido2 backend: a socket appearing is a token plugged in,
// the program stopping is the token removed, and a socket file left behind by a killed program is
// not a token.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "devices/fido2/discovery.h"
#include "support/virtual_token.h"

extern char** environ;

namespace touchpass::devices::fido2 {
namespace {

using namespace std::chrono_literals;

// One run of touchpass-virtual-token; killed (SIGKILL) if still running at destruction.
class TokenProgram {
 public:
  TokenProgram(const std::filesystem::path& socket, const std::filesystem::path& state,
               std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {TOUCHPASS_VIRTUAL_TOKEN_PROGRAM, "--socket", socket.string(),
                                     "--state", state.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (::posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0) pid_ = -1;
  }
  ~TokenProgram() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  TokenProgram(const TokenProgram&) = delete;
  TokenProgram& operator=(const TokenProgram&) = delete;

  bool started() const { return pid_ > 0; }
  // Sends `signal` and returns the exit status (or -1 if it did not exit within 10 s).
  int stop(int signal) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, signal);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return status;
      }
      std::this_thread::sleep_for(20ms);
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
};

// Enumerates until the listing has `count` tokens or 10 s pass; returns the last listing.
std::vector<TokenInfo> wait_for_tokens(Discovery& discovery, std::size_t count) {
  std::vector<TokenInfo> listed;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto found = discovery.enumerate();
    if (found.ok()) listed = *found;
    if (listed.size() == count) break;
    std::this_thread::sleep_for(20ms);
  }
  return listed;
}

TEST(VirtualTokenProgram, DiscoveredWhileRunningAndGoneAfterStop) {
  testing::TempDir dir;
  const auto socket = dir.path() / "program.sock";
  VirtualDirectoryDiscovery discovery(dir.path());
  ASSERT_TRUE(discovery.enumerate()->empty());

  TokenProgram program(socket, dir.path() / "program.state", {"--pin", "4711-pin"});
  ASSERT_TRUE(program.started());
  const auto listed = wait_for_tokens(discovery, 1);
  ASSERT_EQ(listed.size(), 1u) << "the socket appeared";
  EXPECT_EQ(listed[0].path, socket.string());
  EXPECT_TRUE(listed[0].is_virtual());

  {
    auto token = discovery.open(listed[0]);
    ASSERT_TRUE(token.ok()) << token.error().message;
    auto caps = (*token)->fido2()->capabilities();
    ASSERT_TRUE(caps.ok()) << caps.error().message;
    EXPECT_TRUE(caps->hmac_secret());
    EXPECT_TRUE(caps->pin_set);
  }

  const int status = program.stop(SIGTERM);
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(wait_for_tokens(discovery, 0).empty()) << "gone after it stopped";
  EXPECT_EQ(discovery.open(listed[0]).code(), Code::no_token);
}

TEST(VirtualTokenProgram, EnrollsAndDerivesTheSameSecretAcrossProgramRestarts) {
  testing::TempDir dir;
  const auto socket = dir.path() / "program.sock";
  const auto state = dir.path() / "program.state";
  VirtualDirectoryDiscovery discovery(dir.path());
  const SecretBytes pin = SecretBytes::copy_of("4711-pin");

  AssertRequest request;
  request.client_data_hash = Bytes(32, 0x11);
  request.salt = Bytes(32, 0x22);
  request.pin = &pin;
  Bytes first;
  {
    TokenProgram program(socket, state, {"--pin", "4711-pin"});
    const auto listed = wait_for_tokens(discovery, 1);
    ASSERT_EQ(listed.size(), 1u);
    auto token = discovery.open(listed[0]);
    ASSERT_TRUE(token.ok()) << token.error().message;
    EnrollRequest enroll;
    enroll.rp_id = "touchpass:integration";
    enroll.user_id = bytes_of("alice");
    enroll.user_name = "alice";
    enroll.client_data_hash = Bytes(32, 0x33);
    enroll.pin = &pin;
    auto enrollment = (*token)->fido2()->enroll(enroll);
    ASSERT_TRUE(enrollment.ok()) << enrollment.error().message;
    request.credential = enrollment->credential;
    auto assertion = (*token)->fido2()->assert_hmac_secret(request);
    ASSERT_TRUE(assertion.ok()) << assertion.error().message;
    first.assign(assertion->hmac_secret.bytes().begin(), assertion->hmac_secret.bytes().end());
    request.credential.sign_count = assertion->sign_count;
    token.value().reset();
    EXPECT_EQ(WEXITSTATUS(program.stop(SIGTERM)), 0);
  }
  TokenProgram again(socket, state);
  const auto listed = wait_for_tokens(discovery, 1);
  ASSERT_EQ(listed.size(), 1u);
  auto token = discovery.open(listed[0]);
  ASSERT_TRUE(token.ok()) << token.error().message;
  auto assertion = (*token)->fido2()->assert_hmac_secret(request);
  ASSERT_TRUE(assertion.ok()) << assertion.error().message;
  EXPECT_TRUE(assertion->hmac_secret.equals(first));
}

TEST(VirtualTokenProgram, StaleSocketOfAKilledProgramIsNotListed) {
  testing::TempDir dir;
  const auto socket = dir.path() / "killed.sock";
  VirtualDirectoryDiscovery discovery(dir.path());
  TokenProgram program(socket, dir.path() / "killed.state");
  ASSERT_EQ(wait_for_tokens(discovery, 1).size(), 1u);

  const int status = program.stop(SIGKILL);  // no chance to remove its socket file
  ASSERT_TRUE(WIFSIGNALED(status));
  ASSERT_TRUE(std::filesystem::exists(socket)) << "the socket file was left behind";
  auto listed = discovery.enumerate();
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

}  // namespace
}  // namespace touchpass::devices::fido2
