// The pepper: 32 random bytes in a root-only file beside the store (never in it), the key of
// every verifier (DESIGN.md §2). Reading the store alone gives no way to test password guesses.
#pragma once

#include <filesystem>
#include <string_view>

#include "core/bytes.h"
#include "core/secret.h"
#include "core/status.h"
#include "store/admin_store.h"

namespace touchpass::daemon {

inline constexpr std::size_t kPepperSize = 32;

// Reads the pepper at `path`, or — when there is none and `may_create` — creates it (mode 0600,
// 32 bytes from the CSPRNG, written to a temporary file, synced, then linked into place).
// Errors name the path: not_found when it is missing and may not be created; a file of the
// wrong size, or one that group or others may read or write, is refused and left alone.
Result<SecretBytes> load_or_create_pepper(const std::filesystem::path& path, bool may_create);

// The pepper's fingerprint, which the store keeps to recognise its pepper: the first 16 bytes
// of HMAC-SHA-256(pepper, "touchpass/pepper-fingerprint/v1") — a keyed hash that reveals
// nothing of the pepper.
Result<Bytes> pepper_fingerprint(const SecretBytes& pepper);

// Loads the pepper for `store` and checks it is the store's (the daemon's start-up): a store
// that holds anything never gets a new pepper — a missing pepper is an error that says what to
// restore — and a pepper whose fingerprint differs from the one the store recorded is refused.
// A store that has no fingerprint yet gets the pepper's — unless another host sharing the store
// recorded a different one first (invalid_argument). `store_name` names the store in errors.
Result<SecretBytes> load_pepper_for_store(const std::filesystem::path& path,
                                          store::AdminStore& store, std::string_view store_name);

}  // namespace touchpass::daemon
