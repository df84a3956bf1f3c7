// Helpers for the YubiKey backend tests: the emulator's state file for this process, and an
// independent HMAC-SHA1 (OpenSSL) to check responses against.
#pragma once

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <span>
#include <string>

#include "devices/yubikey/emulator/state.h"

namespace touchpass::devices::yubikey::testing {

// The state file of this test process (TOUCHPASS_YKEMU_STATE), set before the emulator's first
// use. The emulator re-reads it whenever it changes.
inline const std::string& state_path() {
  // Never destroyed, so that the clean-up at exit can still use it.
  static const std::string& path = *new std::string([] {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("touchpass-ykemu-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::string p = (dir / "state.json").string();
    ::setenv("TOUCHPASS_YKEMU_STATE", p.c_str(), 1);
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(std::filesystem::path(state_path()).parent_path(), ignored);
    });
    return p;
  }());
  return path;
}

inline void write_state(const ykemu::EmulatorState& state) {
  std::string error;
  if (!ykemu::save_state(state_path(), state, &error)) std::abort();
}

inline ykemu::EmulatorState read_state() {
  std::string error;
  auto state = ykemu::load_state(state_path(), &error);
  if (!state) std::abort();
  return *state;
}

inline std::array<std::uint8_t, 20> hmac_sha1(std::span<const std::uint8_t> key,
                                              std::span<const std::uint8_t> message) {
  std::array<std::uint8_t, 20> out{};
  unsigned int length = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), message.data(), message.size(),
       out.data(), &length);
  return out;
}

}  // namespace touchpass::devices::yubikey::testing
