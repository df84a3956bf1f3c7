// Verification of a new credential's attestation (WebAuthn L3 §7.1, §8.2 packed, §8.6 fido-u2f,
// §8.7 none; DESIGN.md §2): touchpassd never talks to the key, so before it stores a credential
// it checks what the client relays — the client data, the authenticator data and the
// attestation statement — against what the enroll ceremony issued. The attestation certificate
// is checked to have signed, not to chain to a trusted root (touchpass keeps no metadata
// service). Pure: no I/O.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/authenticator_data.h"
#include "core/bytes.h"
#include "core/client_data.h"
#include "core/status.h"

namespace touchpass {

// What the client relays from one makeCredential (or navigator.credentials.create).
struct AttestationStatement {
  std::string format;            // "packed", "fido-u2f" or "none"
  Bytes authenticator_data;      // raw
  Bytes signature;               // attStmt.sig, DER; empty for "none"
  Bytes certificate;             // attStmt.x5c[0], DER; empty for self attestation and "none"
  std::string client_data_json;  // exactly as hashed
};

struct AttestationExpectation {
  std::string_view rp_id;
  ClientDataExpectation client_data;  // type webauthn.create, the ceremony's challenge
  bool user_verification = false;     // the credential is enrolled with the PIN
};

// The credential as verified.
struct AttestedCredential {
  Bytes credential_id;
  Es256PublicKey public_key;
  std::array<std::uint8_t, 16> aaguid{};
  std::uint32_t sign_count = 0;
  std::string format;
};

// Checks, in order: the client data (type, challenge, origin); the authenticator data parses, its
// rpIdHash is SHA-256(rp_id), UP is set, UV when required, it carries attested credential data
// with an ES256 key and the extension output hmac-secret: true; then the statement: "none" has
// no signature; "packed" with a certificate: its P-256 key signed authData || H(clientData);
// "packed" without one (self attestation): the credential key did; "fido-u2f": the certificate's
// key signed 0x00 || rpIdHash || H(clientData) || credentialId || 0x04 || x || y. Errors:
// malformed_reply for data that does not parse; capability_missing for a key that is not ES256
// or lacks hmac-secret; verification_failed with a sentence for everything else (an unknown
// format included).
Result<AttestedCredential> verify_attestation(const AttestationStatement& statement,
                                              const AttestationExpectation& expected);

}  // namespace touchpass
