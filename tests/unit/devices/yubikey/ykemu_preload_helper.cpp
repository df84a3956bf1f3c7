// A tiny program that uses the YubiKey backend exactly as touchpassd will: it links libykpers
// (and through it the real libusb-1.0) and knows nothing of the emulator. Run under
// LD_PRELOAD=libtouchpass-ykemu.so it must find the emulated key.
//
// Usage: ykemu_preload_helper <slot 1|2> <challenge: 128 hex digits>
// Prints "serial <n>", "response <40 hex digits>" and "emulator_calls <n>" (from the preloaded
// emulator's counter, found with dlsym; 0 when the emulator is not loaded). Exit status 0 on
// success, 1 on a backend error (printed to stderr), 2 on bad arguments.
#include <dlfcn.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "core/bytes.h"
#include "devices/yubikey/discovery.h"

int main(int argc, char** argv) {
  using namespace touchpass;
  if (argc != 3) return 2;
  const std::string slot_arg = argv[1];
  const auto challenge = from_hex(argv[2]);
  if ((slot_arg != "1" && slot_arg != "2") || !challenge || challenge->size() != 64) return 2;
  const auto slot = slot_arg == "1" ? devices::OtpSlot::one : devices::OtpSlot::two;

  devices::yubikey::YubiKeyDiscovery discovery;
  auto found = discovery.enumerate();
  if (!found) {
    std::fprintf(stderr, "enumerate: %s\n", found.error().message.c_str());
    return 1;
  }
  if (found->empty()) {
    std::fprintf(stderr, "no YubiKey found\n");
    return 1;
  }
  auto token = discovery.open(found->front());
  if (!token) {
    std::fprintf(stderr, "open: %s\n", token.error().message.c_str());
    return 1;
  }
  std::span<const std::uint8_t, 64> chal(challenge->data(), 64);
  auto response = (*token)->otp()->challenge_response(slot, chal, std::chrono::seconds(5), nullptr);
  if (!response) {
    std::fprintf(stderr, "challenge_response: %s\n", response.error().message.c_str());
    return 1;
  }
  using CountFn = unsigned long long (*)();
  auto count = reinterpret_cast<CountFn>(dlsym(RTLD_DEFAULT, "touchpass_ykemu_call_count"));
  std::printf("serial %u\nresponse %s\nemulator_calls %llu\n", found->front().serial,
              to_hex(response->bytes()).c_str(), count != nullptr ? count() : 0ULL);
  return 0;
}
