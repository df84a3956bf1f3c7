// The token interface: everything above devices/ talks to hardware (or the virtual token)
// through Token and Discovery only, and never learns which backend it has.
//
// Errors come back as touchpass::Error values whose code is one of the token codes of
// core/status.h and whose message is a sentence a person can act on. Library error codes
// (libfido2, libykpers) are translated once, in the backend.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/secret.h"
#include "core/status.h"

namespace touchpass::devices {

// How a token is reached.
enum class Transport {
  usb_hid,         // a FIDO HID device node (/dev/hidrawN) through libfido2's own I/O
  virtual_socket,  // a virtual token: a SOCK_SEQPACKET Unix socket (DESIGN.md §4.3)
};

// What discovery reports about one present token.
struct TokenInfo {
  std::string path;  // device node or socket path; identifies the token while it is present
  Transport transport = Transport::usb_hid;
  std::string manufacturer;
  std::string product;
  std::uint16_t vendor_id = 0;
  std::uint16_t product_id = 0;

  // A development/test device: every listing and log line must say so.
  bool is_virtual() const { return transport == Transport::virtual_socket; }
};

// The token's answer to getInfo, reduced to what touchpass decides on.
struct Capabilities {
  std::vector<std::string> versions;    // e.g. "FIDO_2_0", "FIDO_2_1", "U2F_V2"
  std::vector<std::string> extensions;  // e.g. "hmac-secret", "credProtect"
  Bytes aaguid;                         // 16 bytes
  std::vector<int> algorithms;          // COSE algorithms offered (empty: token did not say)
  std::vector<int> pin_protocols;       // e.g. {2, 1}
  bool client_pin = false;              // the token supports a PIN
  bool pin_set = false;                 // ... and one is set
  bool pin_uv_auth_token = false;       // CTAP 2.1 getPinUvAuthTokenUsingPinWithPermissions
  // Built-in user verification (e.g. fingerprint) that is set up: getInfo option "uv" true
  // (present but false: capable, not yet set up; reported as false).
  bool uv_builtin = false;
  bool resident_keys = false;  // getInfo option "rk": can store discoverable credentials

  bool hmac_secret() const { return has_extension("hmac-secret"); }
  bool cred_protect() const { return has_extension("credProtect"); }
  bool has_extension(std::string_view name) const {
    for (const auto& e : extensions)
      if (e == name) return true;
    return false;
  }
};

// User verification of a credential. Fixed at enrollment; every later assertion uses exactly
// this mode, because the hmac-secret output differs with and without UV.
enum class UserVerification {
  presence_only,  // touch only (credProtect UV_OPTIONAL_WITH_ID)
  pin,            // PIN (or built-in UV) every time (credProtect UV_REQUIRED)
};

// COSE algorithm identifiers.
inline constexpr int kCoseEs256 = -7;
inline constexpr int kCoseEdDsa = -8;

// An enrolled FIDO2 credential as the store keeps it. Nothing in it is secret.
struct Credential {
  std::string rp_id;
  Bytes id;  // credential id
  int algorithm = kCoseEs256;
  Bytes public_key;  // ES256: x||y (64 bytes); EdDSA: 32 bytes
  UserVerification uv = UserVerification::pin;
  std::uint32_t sign_count = 0;  // the last counter seen from the token
};

// Called (on the calling thread) right before the token starts waiting for a touch, so the
// caller can say "Touch your security key…". libfido2 itself does not report it.
using TouchPrompt = std::function<void()>;

struct EnrollRequest {
  std::string rp_id;  // e.g. "touchpass:" followed by the host's name
  std::string rp_name;
  Bytes user_id;  // 1..64 opaque bytes
  std::string user_name;
  Bytes client_data_hash;  // 32 bytes
  UserVerification uv = UserVerification::pin;
  // The token PIN. Required for uv == pin; also needed to create a credential on a token that
  // has a PIN set. Never stored or logged.
  const SecretBytes* pin = nullptr;
  std::chrono::milliseconds timeout{30000};  // for each token call, including the touch
  TouchPrompt on_touch;
};

struct Enrollment {
  Credential credential;
  Bytes aaguid;
  std::string attestation_format;  // "packed", "fido-u2f", "none", …
  std::vector<Bytes> x5c;          // DER certificates; empty for self or no attestation
  Bytes auth_data;                 // the makeCredential authenticator data (raw)
  Bytes attestation_signature;
  int cred_protect = 0;  // 1..3 as created
};

struct AssertRequest {
  Credential credential;             // as enrolled (its uv mode is the one used)
  Bytes client_data_hash;            // 32 bytes
  Bytes salt;                        // hmac-secret salt: 32 bytes
  const SecretBytes* pin = nullptr;  // required when credential.uv == pin
  std::chrono::milliseconds timeout{30000};
  TouchPrompt on_touch;
};

struct Assertion {
  SecretBytes hmac_secret;  // 32 bytes: HMAC-SHA-256(CredRandom, salt)
  Bytes auth_data;          // raw authenticator data, kept as proof
  Bytes signature;          // over auth_data || client_data_hash, verified before returning
  std::uint32_t sign_count = 0;
  bool user_verified = false;
};

// One opened token. Methods other than cancel() are called from one thread at a time.
class Token {
 public:
  virtual ~Token() = default;

  virtual const TokenInfo& info() const = 0;

  // The token's capabilities (from getInfo at open).
  virtual Result<Capabilities> capabilities() = 0;

  // PIN tries left. Error pin_not_set when the token has no PIN.
  virtual Result<int> pin_retries() = 0;

  // Sets the first PIN (the token must have none). The token enforces its PIN policy
  // (pin_policy error).
  virtual Status set_pin(const SecretBytes& new_pin) = 0;
  virtual Status change_pin(const SecretBytes& old_pin, const SecretBytes& new_pin) = 0;

  // Creates a non-resident ES256 credential with hmac-secret and credProtect (UV_REQUIRED for
  // uv == pin, else UV_OPTIONAL_WITH_ID), after checking capabilities; verifies the attestation
  // (x5c[0] or self); then proves the credential with one assertion carrying an hmac-secret
  // salt. Needs two touches; on_touch is called before each.
  virtual Result<Enrollment> enroll(const EnrollRequest& request) = 0;

  // One assertion for request.credential with the hmac-secret salt, in the credential's UV mode.
  // The signature is verified against the stored public key and the counter checked before
  // returning: a counter that did not increase (unless both are 0) gives clone_suspected.
  virtual Result<Assertion> assert_hmac_secret(const AssertRequest& request) = 0;

  // Waits until a person touches this token, without creating a credential or sending a PIN
  // (CTAP "touch to select", libfido2's fido_dev_get_touch_begin/status). Used to pick one of
  // several present tokens. on_touch is not called (the caller prompts once for all tokens).
  // Errors: presence_timeout, cancelled (cancel() from another thread), token_removed;
  // presence_denied when the token reports that the touch was refused (a key with a "deny"
  // gesture, or the virtual token set to deny): that token was not chosen.
  virtual Status wait_for_touch(std::chrono::milliseconds timeout) = 0;

  // Cancels the operation in progress, if any; safe from any thread. The operation then fails
  // with Code::cancelled.
  virtual void cancel() = 0;
};

// Finds the tokens present now and opens them.
class Discovery {
 public:
  virtual ~Discovery() = default;
  // The tokens present now (possibly none).
  virtual Result<std::vector<TokenInfo>> enumerate() = 0;
  // Opens one token found by enumerate(). Error no_token if it has gone.
  virtual Result<std::unique_ptr<Token>> open(const TokenInfo& info) = 0;
};

}  // namespace touchpass::devices
