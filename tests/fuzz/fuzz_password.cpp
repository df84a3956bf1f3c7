// What a person (or an attacker) types as an app password, on its way to a verifier.
#include "core/password.h"
#include "core/verifier.h"
#include "fuzz.h"
#include "ipc/frame.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::uint8_t kPepper[32] = {0x5e};
  const std::string_view typed(reinterpret_cast<const char*>(data), size);
  const touchpass::SecretBytes normalized = touchpass::normalize_password(typed);
  if (touchpass::is_well_formed(normalized.view())) {
    if (!touchpass::compute_verifier(kPepper, normalized.view()).ok()) std::abort();
  }
  (void)touchpass::verifier_for_typed_password(kPepper, typed);
  return 0;
}

std::vector<std::string> fuzz_seeds() {
  return {"d9tn-8rp3-n70q-kcw9-nvpp", "D9TN 8RP3 N70Q KCW9 NVPP", "O1lI-oOiL", " \t-\xff\xfe"};
}

// A typed password reaches the verifier in a frame's secret part.
std::size_t fuzz_max_len() {
  return touchpass::ipc::kMaxSecretSize;
}
