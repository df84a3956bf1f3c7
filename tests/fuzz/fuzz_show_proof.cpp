// A show's audit detail as `log --verify` reads it back from the store (core/show_proof.h): any
// line is refused or read, and whatever is read has exactly that one text form.
#include <cstdlib>
#include <string_view>

#include "core/show_proof.h"
#include "fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view detail(reinterpret_cast<const char*>(data), size);
  const auto proof = touchpass::parse_show_proof(detail);
  if (!proof.ok()) return 0;
  const auto written = touchpass::encode_show_proof(*proof);
  if (!written.ok() || *written != detail) std::abort();
  return 0;
}

std::vector<std::string> fuzz_seeds() {
  return {
      "show-proof v1 grant=a0a1a2a3a4a5a6a7a8a9aaabacadaeaf nonce=11111111111111111111111111111111"
      " auth=2222222222222222222222222222222222222222222222222222222222222222222222222205"
      " client=eyJ0eXBlIjoid2ViYXV0aG4uZ2V0In0 sig=3006020101020102",
      "show-proof v1 grant=a0a1a2a3a4a5a6a7a8a9aaabacadaeaf nonce=11111111111111111111111111111111"
      " auth=2222222222222222222222222222222222222222222222222222222222222222222222222205"
      " client= sig=3006020101020102",
      "nonce 00112233445566778899aabbccddeeff proof 3006020101020102",
  };
}

// The store keeps details of any length; the parser refuses what is longer than a proof can be.
std::size_t fuzz_max_len() {
  return touchpass::kMaxShowProofBytes + 64;
}
