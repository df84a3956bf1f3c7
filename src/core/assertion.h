// Verification of what a key signed in a ceremony (WebAuthn L3 §7.2, DESIGN.md §2, §5.2):
// touchpassd never talks to the key; the client relays the authenticator data, the client data
// and the signature, and this checks them against the credential's stored public key and what
// the ceremony issued. Pure: no I/O.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/authenticator_data.h"
#include "core/bytes.h"
#include "core/client_data.h"
#include "core/status.h"

namespace touchpass {

// What the client relays from one getAssertion (or navigator.credentials.get).
struct SignedAssertion {
  Bytes authenticator_data;
  std::string client_data_json;  // exactly as hashed
  Bytes signature;               // ECDSA, DER
};

// What the ceremony expects.
struct AssertionExpectation {
  std::string_view rp_id;
  ClientDataExpectation client_data;
  // The credential was enrolled with user verification: the assertion must carry UV too.
  bool user_verification = false;
  // The credential's last stored signature counter (0: the key keeps none).
  std::uint32_t sign_count = 0;
};

// Success when `signature` is a valid ECDSA P-256 / SHA-256 signature (DER) of `message` under
// `key`; verification_failed when it is not (or the key is not a point on the curve); internal
// if OpenSSL fails otherwise.
Status verify_es256_signature(const Es256PublicKey& key, std::span<const std::uint8_t> message,
                              std::span<const std::uint8_t> der_signature);

// Checks an assertion over a raw clientDataHash (v1 grants sign H(label || enc(G)) directly):
// the authenticator data parses; its rpIdHash is SHA-256(rp_id); UP is set; UV is set when
// `user_verification`; the signature over authData || client_data_hash verifies under `key`.
// Returns the parsed authenticator data. Errors as verify_assertion, without clone_suspected
// (no counter is compared).
Result<AuthenticatorData> verify_signed_hash(std::span<const std::uint8_t> authenticator_data,
                                             std::span<const std::uint8_t> client_data_hash,
                                             std::span<const std::uint8_t> der_signature,
                                             const Es256PublicKey& key, std::string_view rp_id,
                                             bool user_verification);

// Checks, in this order: the authenticator data parses; its rpIdHash is SHA-256(rp_id); UP is
// set; UV is set when the credential was enrolled with it; the signature over
// authData || SHA-256(clientDataJSON) verifies under `key` (verify_signed_hash); the client data
// parses and matches (check_client_data); the signature counter moved forward when either
// counter is non-zero. Returns the
// parsed authenticator data (its sign_count is the one to store). Errors: malformed_reply for
// data that does not parse, clone_suspected for a counter that did not move forward,
// verification_failed (with a sentence naming the check) for everything else.
Result<AuthenticatorData> verify_assertion(const SignedAssertion& assertion,
                                           const Es256PublicKey& key,
                                           const AssertionExpectation& expected);

// Success when a counter `seen` in an assertion moved forward from the `stored` one, or both are
// 0 (the key keeps no counter); clone_suspected otherwise.
Status check_sign_count(std::uint32_t seen, std::uint32_t stored);

// The credential a grant ceremony's assertion must come from, as enrolled.
struct EnrolledCredential {
  std::span<const std::uint8_t> public_key;  // ES256 x || y, 64 bytes
  std::string_view rp_id;
  bool user_verification = false;
  std::uint32_t sign_count = 0;
};

// The check of a grant ceremony's assertion (issue or show, DESIGN.md §5.2 and §5.3), for a grant
// of `version`: v1 signs `challenge` as the raw clientDataHash and carries no client data; v2
// signs a clientDataJSON of type webauthn.get whose challenge is `challenge` and whose origin is
// one of `origins`. Errors as verify_assertion; verification_failed for a stored key that is not
// an ES256 point, or client data where the version has none (or none where it needs it).
Result<AuthenticatorData> verify_grant_assertion(std::uint64_t version,
                                                 const SignedAssertion& assertion,
                                                 const EnrolledCredential& credential,
                                                 std::span<const std::uint8_t> challenge,
                                                 std::span<const std::string> origins);

}  // namespace touchpass
