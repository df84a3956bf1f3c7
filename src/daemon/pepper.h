// The pepper: 32 random bytes in a root-only file beside the store (never in it), the key of
// every verifier (DESIGN.md §2). Reading the store alone gives no way to test password guesses.
#pragma once

#include <filesystem>

#include "core/secret.h"
#include "core/status.h"

namespace touchpass::daemon {

inline constexpr std::size_t kPepperSize = 32;

// Reads the pepper at `path`, or creates it (mode 0600, 32 bytes from the CSPRNG, written to a
// temporary file, synced, then renamed into place) when there is none. Errors name the path:
// a file of the wrong size, or one that group or others may read or write, is refused and left
// alone.
Result<SecretBytes> load_or_create_pepper(const std::filesystem::path& path);

}  // namespace touchpass::daemon
