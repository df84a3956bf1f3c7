// The persisted state of a virtual token: AAGUID, attestation key and certificate, credentials,
// PIN hash and retries, and the global signature counter. Stored as JSON (bytes as lower-case
// hex) and saved by atomic replace. The file is as secret as a token's flash: mode 0600.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/secret.h"
#include "core/status.h"

namespace touchpass::vtoken {

// The user entity of a resident credential, as given to makeCredential.
struct UserEntity {
  Bytes id;
  std::optional<std::string> name;
  std::optional<std::string> display_name;
};

struct StoredCredential {
  Bytes id;                       // the credential id handed to the platform
  Bytes rp_id_hash;               // SHA-256 of the RP id (32 bytes)
  SecretBytes private_key;        // P-256 key pair, DER (SEC 1)
  SecretBytes cred_random_uv;     // hmac-secret key used when UV was done (32 bytes)
  SecretBytes cred_random_no_uv;  // ... and when it was not (32 bytes)
  int cred_protect = 1;           // 1..3
  bool hmac_secret = false;       // created with the hmac-secret extension
  bool resident = false;
  UserEntity user;            // kept for resident credentials only
  std::uint64_t created = 0;  // creation order (the signature counter value at creation)
};

struct State {
  Bytes aaguid;                   // 16 bytes
  SecretBytes attestation_key;    // P-256 key pair, DER (SEC 1)
  Bytes attestation_certificate;  // DER
  std::vector<StoredCredential> credentials;
  std::optional<Bytes> pin_hash;  // LEFT(SHA-256(PIN), 16); nullopt: no PIN set
  int pin_retries = 8;
  std::uint32_t sign_count = 0;  // global counter, incremented before each signature
};

// Reads the state file. Error not_found when it does not exist, io_error when it cannot be read,
// invalid_argument when it is not a valid state file (the message names the path and reason).
Result<State> load_state(const std::filesystem::path& path);

// Writes `state` by atomic replace: a temporary file (mode 0600) in the same directory, fsync,
// rename over `path`, fsync of the directory. Error io_error naming the path on failure; the old
// file is then left intact.
Status save_state(const State& state, const std::filesystem::path& path);

}  // namespace touchpass::vtoken
