// The emulator as a shared library under LD_PRELOAD (how a hardware-free touchpassd uses it): a
// helper program linked against the real libykpers and libusb-1.0, and nothing of the emulator,
// finds the emulated key and gets the right HMAC-SHA1 response.
#include <gtest/gtest.h>
#include <openssl/rand.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <string>

#include "core/bytes.h"
#include "support/fd_pairs.h"
#include "ykemu_test_support.h"

#ifndef TOUCHPASS_YKEMU_LIBRARY
#error "TOUCHPASS_YKEMU_LIBRARY must name libtouchpass-ykemu.so"
#endif
#ifndef TOUCHPASS_YKEMU_HELPER
#error "TOUCHPASS_YKEMU_HELPER must name ykemu_preload_helper"
#endif

namespace touchpass::devices::yubikey {
namespace {

// Runs the helper with `preload` (may be empty) and the state file; its stdout and exit status.
std::pair<std::string, int> run_helper(const std::string& preload, const std::string& slot,
                                       const std::string& challenge_hex) {
  auto out = touchpass::testing::make_pipe();  // O_CLOEXEC: the helper keeps only its stdout
  if (!out.ok()) return {"", -1};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out->write.get(), STDOUT_FILENO);
    if (!preload.empty()) ::setenv("LD_PRELOAD", preload.c_str(), 1);
    ::setenv("TOUCHPASS_YKEMU_STATE", testing::state_path().c_str(), 1);
    ::execl(TOUCHPASS_YKEMU_HELPER, TOUCHPASS_YKEMU_HELPER, slot.c_str(), challenge_hex.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  out->write.reset();
  std::string text;
  std::array<char, 512> buffer{};
  ssize_t n = 0;
  while ((n = ::read(out->read.get(), buffer.data(), buffer.size())) > 0)
    text.append(buffer.data(), static_cast<std::size_t>(n));
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {text, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

TEST(YkemuPreloadTest, DaemonLikeProgramFindsTheEmulatedKeyUnderLdPreload) {
  ykemu::EmulatorState state;
  state.serial = 7654321;
  ykemu::SlotState slot;
  ASSERT_EQ(RAND_bytes(slot.key.data(), static_cast<int>(slot.key.size())), 1);
  state.slots[1] = slot;
  state.programming_sequence = 1;
  testing::write_state(state);

  std::array<std::uint8_t, 64> challenge{};
  ASSERT_EQ(RAND_bytes(challenge.data(), static_cast<int>(challenge.size())), 1);
#ifdef TOUCHPASS_PRELOAD_FIRST
  const std::string preload = std::string(TOUCHPASS_PRELOAD_FIRST) + ":" + TOUCHPASS_YKEMU_LIBRARY;
#else
  const std::string preload = TOUCHPASS_YKEMU_LIBRARY;
#endif
  const auto [output, status] = run_helper(preload, "2", to_hex(challenge));
  ASSERT_EQ(status, 0) << output;
  EXPECT_NE(output.find("serial 7654321\n"), std::string::npos) << output;
  EXPECT_NE(output.find("response " + to_hex(testing::hmac_sha1(slot.key, challenge)) + "\n"),
            std::string::npos)
      << output;
  EXPECT_EQ(output.find("emulator_calls 0\n"), std::string::npos) << output;
}

}  // namespace
}  // namespace touchpass::devices::yubikey
