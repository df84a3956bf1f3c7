// The typed messages of a ceremony (PROTOCOL.md "Ceremonies", DESIGN.md §2): the offer
// touchpassd answers to issue-begin and show-begin, and the `finish` request in which the client
// returns what the key produced. Shared by the daemon and the client library; both parse strictly
// (sizes bounded, byte strings base64url), so neither trusts the other's message.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/grant.h"
#include "core/status.h"

namespace touchpass::ipc {

using Json = nlohmann::json;

// A ceremony's id: 16 random bytes.
inline constexpr std::size_t kCeremonyIdBytes = 16;
// The most credentials an offer lists (a user's active tokens).
inline constexpr std::size_t kMaxOfferedCredentials = 64;
// Limits of what a finish carries (CTAP2 and WebAuthn sizes, with room).
inline constexpr std::size_t kMaxCredentialIdBytes = 1023;
inline constexpr std::size_t kMaxAuthenticatorDataBytes = 2048;
inline constexpr std::size_t kMaxSignatureBytes = 256;
inline constexpr std::size_t kMaxFinishClientDataBytes = 4096;
inline constexpr std::size_t kMaxCertificateBytes = 4096;
inline constexpr std::size_t kMaxDeviceTextBytes = 128;

// One credential an offer allows, with everything its key must be asked.
struct OfferedCredential {
  TokenKind kind = TokenKind::fido2;
  std::string token;  // the token's label, for prompts
  // The grant encoding's credential (DESIGN.md §5.1): the FIDO2 credential id, or the YubiKey's
  // 4-byte big-endian serial then the slot byte.
  Bytes credential;

  // FIDO2 only.
  std::string rp_id;
  bool user_verification = false;  // the credential was enrolled with the PIN
  Bytes public_key;                // ES256 x || y (64 bytes): the client checks the signature
  std::uint32_t sign_count = 0;
  // v2 grants: the WebAuthn challenge (32 bytes), which the client puts into a clientDataJSON of
  // type webauthn.get with the offer's origin. v1 grants: empty, and client_data_hash is signed
  // as it is.
  Bytes challenge;
  Bytes client_data_hash;

  // YubiKey only: the rolling challenge that proves the enrolled slot, and the next one.
  Bytes rolling_challenge;  // 64 bytes
  Bytes next_challenge;     // 64 bytes
};

// What touchpassd answers to issue-begin and show-begin.
struct CeremonyOffer {
  Bytes ceremony;               // kCeremonyIdBytes
  std::int64_t expires_in = 0;  // seconds until the ceremony may no longer be finished
  std::string origin;           // the origin of the client data (v2 FIDO2)
  Bytes salt;                   // FIDO2: the hmac-secret salt1 (32 bytes)
  Bytes prf_input;              // FIDO2 v2: the PRF input P (what a browser passes to prf.eval)
  Bytes yubikey_challenge;      // YubiKey: the 64-byte challenge whose response is S
  std::vector<OfferedCredential> credentials;  // at least one

  Json to_json() const;
  // Parses an offer; protocol_error (naming the field) for anything missing, mistyped or out of
  // bounds.
  static Result<CeremonyOffer> parse(const Json& j);
};

// What touchpassd answers to enroll-begin: how the key must create the credential (FIDO2) or
// which slot to prove (YubiKey).
struct EnrollOffer {
  Bytes ceremony;
  std::int64_t expires_in = 0;
  TokenKind kind = TokenKind::fido2;
  // FIDO2: makeCredential for rp_id and user_id, over the clientDataJSON of type webauthn.create
  // with `challenge` and `origin`; with the PIN when user_verification.
  std::string rp_id;
  std::string rp_name;
  Bytes user_id;  // 16 random bytes
  std::string user_name;
  std::string origin;
  Bytes challenge;  // 32 bytes
  bool user_verification = true;
  // YubiKey: answer rolling_challenge with `slot`, programming the slot first when `program`
  // (over a programmed one only with `force`).
  int slot = 2;
  bool program = false;
  bool force = false;
  Bytes rolling_challenge;  // 64 bytes

  Json to_json() const;
  static Result<EnrollOffer> parse(const Json& j);
};

// The client's `finish`: which credential answered and what its key produced. The token secret S
// travels in the frame's secret part: FIDO2 the 32-byte hmac-secret output; YubiKey the three
// 20-byte responses to the rolling challenge, the grant's challenge and the next challenge.
struct Finish {
  Bytes ceremony;
  Bytes credential;
  Bytes authenticator_data;      // FIDO2
  Bytes signature;               // FIDO2, DER
  std::string client_data_json;  // FIDO2 v2 and enroll; empty for v1
  // Enroll only: the attestation statement's format and certificate (x5c[0], DER; empty for
  // self attestation and "none"), and what the client saw of the key (shown in listings only).
  std::string attestation_format;
  Bytes attestation_certificate;
  std::string device;
  bool virtual_token = false;

  void add_to(Json& request) const;
  // Reads the finish fields of a request; protocol_error naming the field.
  static Result<Finish> parse(const Json& j);
};

// The secret part of a YubiKey finish: three HMAC-SHA1 responses (issue, show), or one (enroll).
inline constexpr std::size_t kYubiKeyFinishSecretBytes = 60;

}  // namespace touchpass::ipc
