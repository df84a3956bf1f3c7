// The token interface: everything above devices/ talks to hardware (or the virtual token)
// through Token and Discovery only, and never learns which backend it has.
//
// Errors come back as touchpass::Error values whose code is one of the token codes of
// core/status.h and whose message is a sentence a person can act on. Library error codes
// (libfido2, libykpers) are translated once, in the backend.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/grant.h"
#include "core/secret.h"
#include "core/status.h"

namespace touchpass::devices {

// How a token is reached.
enum class Transport {
  usb_hid,         // a FIDO HID device node (/dev/hidrawN) through libfido2's own I/O
  virtual_socket,  // a virtual token: a SOCK_SEQPACKET Unix socket (DESIGN.md §4.3)
  // The OTP application of a YubiKey (HMAC-SHA1 challenge-response slots, DESIGN.md §4.2),
  // through libykpers over libusb-1.0. The path names the key by serial ("yubikey-otp:<serial>",
  // or "yubikey-otp:index:<n>" for a key that does not reveal its serial).
  yubikey_otp,
};

// A token's firmware version; all zero when unknown.
struct FirmwareVersion {
  std::uint8_t major = 0;
  std::uint8_t minor = 0;
  std::uint8_t build = 0;

  bool known() const { return major != 0 || minor != 0 || build != 0; }
  // "5.4.3"; "unknown" when not known.
  std::string to_string() const {
    if (!known()) return "unknown";
    return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(build);
  }
  friend bool operator==(const FirmwareVersion&, const FirmwareVersion&) = default;
};

// What discovery reports about one present token.
struct TokenInfo {
  std::string path;  // device node or socket path; identifies the token while it is present
  Transport transport = Transport::usb_hid;
  std::string manufacturer;
  std::string product;
  std::uint16_t vendor_id = 0;
  std::uint16_t product_id = 0;
  // The token's serial number; 0 = unknown (FIDO2 tokens, or a YubiKey that hides it).
  std::uint32_t serial = 0;
  // The firmware version, when discovery learns it (YubiKeys); all zero otherwise.
  FirmwareVersion firmware;

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

// One of the two configuration slots of a YubiKey's OTP application. The same type as the
// slot of a YubiKey grant's credential (core/grant.h), so a grant's slot is passed as it is.
using OtpSlot = YubiKeySlot;

// The challenge of an HMAC-SHA1 challenge-response: always exactly 64 bytes (DESIGN.md §4.2), so
// a slot is never programmed or asked with HMAC_LT64 (variable-length challenges).
inline constexpr std::size_t kOtpChallengeBytes = 64;
// The response: HMAC-SHA1, 20 bytes.
inline constexpr std::size_t kOtpResponseBytes = 20;

// What the OTP application says about one slot.
struct OtpSlotStatus {
  // The slot holds a configuration (the status report's CONFIGn_VALID bit; firmware 2.1+). It may
  // be a configuration of another kind (an OTP, a static password): only a challenge tells.
  bool programmed = false;
  // Whether a challenge to this slot waits for a touch. The status report does not say (its
  // CONFIGn_TOUCH bit means "emits an OTP when touched", not "challenge-response needs a touch"),
  // so this is known only for a slot this Token object programmed itself; nullopt otherwise.
  std::optional<bool> requires_touch;
};

// The status of a YubiKey's OTP application.
struct OtpStatus {
  FirmwareVersion firmware;
  std::uint32_t serial = 0;  // 0: the key does not reveal its serial to the host
  // Increased by the key at every successful programming; 0 when no slot is programmed.
  std::uint8_t programming_sequence = 0;
  std::array<OtpSlotStatus, 2> slots{};  // [0] = slot 1, [1] = slot 2

  const OtpSlotStatus& slot(OtpSlot s) const { return slots[s == OtpSlot::one ? 0 : 1]; }
};

struct Assertion {
  SecretBytes hmac_secret;  // 32 bytes: HMAC-SHA-256(CredRandom, salt)
  Bytes auth_data;          // raw authenticator data, kept as proof
  Bytes signature;          // over auth_data || client_data_hash, verified before returning
  std::uint32_t sign_count = 0;
  bool user_verified = false;
};

// The FIDO2 application of a token (CTAP2 through libfido2). Its methods are called from one
// thread at a time, the token's operation thread.
class Fido2Facet {
 public:
  virtual ~Fido2Facet() = default;

  // Whether the token has a PIN set, as it said when it was opened (or since set_pin): known
  // without sending a command.
  virtual bool pin_set() const = 0;

  // The token's capabilities (its getInfo, asked once per opened token).
  virtual Result<Capabilities> capabilities() = 0;

  // PIN tries left. Error pin_not_set when the token has no PIN.
  virtual Result<int> pin_retries() = 0;

  // Sets the first PIN (the token must have none). The token enforces its PIN policy
  // (pin_policy error).
  virtual Status set_pin(const SecretBytes& new_pin) = 0;
  virtual Status change_pin(const SecretBytes& old_pin, const SecretBytes& new_pin) = 0;

  // Creates a non-resident ES256 credential with hmac-secret and credProtect (UV_REQUIRED for
  // uv == pin, else UV_OPTIONAL_WITH_ID), after checking capabilities; verifies the attestation
  // (x5c[0] or self), and for uv == pin proves with a silent probe (no touch) that the key
  // applies credProtect. Needs one touch; on_touch is called when the request that waits for it
  // is sent (after any PIN token).
  virtual Result<Enrollment> enroll(const EnrollRequest& request) = 0;

  // One assertion for request.credential with the hmac-secret salt, in the credential's UV mode.
  // The signature is verified against the stored public key and the counter checked before
  // returning: a counter that did not increase (unless both are 0) gives clone_suspected.
  // on_touch is called when the request that waits for the touch is sent (after any PIN token).
  virtual Result<Assertion> assert_hmac_secret(const AssertRequest& request) = 0;

  // Whether this token holds `credential`, asked silently: one getAssertion without user
  // presence, without extensions and without a touch (CTAP 2 "up": false). With `pin` the PIN is
  // sent too, which a credential enrolled with credProtect UV_REQUIRED needs to be found. Errors:
  // pin_invalid (retries_left set), pin_blocked, token_removed, io_error, cancelled.
  virtual Result<bool> holds_credential(const Credential& credential, const SecretBytes* pin) = 0;
};

// The OTP application of a YubiKey (DESIGN.md §4.2). Its methods are called from one thread at a
// time, the token's operation thread.
class OtpFacet {
 public:
  virtual ~OtpFacet() = default;

  // Firmware version, serial (0 when hidden) and which slots are programmed.
  // Errors: token_removed, io_error, malformed_reply, token_error.
  virtual Result<OtpStatus> otp_status() = 0;

  // HMAC-SHA1 challenge-response with `slot`: the 20-byte HMAC-SHA1 of the 64-byte `challenge`
  // under the slot's secret key, which never leaves the token. When the key reports that it waits
  // for a touch, `on_touch` (if set) is called once on the calling thread; then the call waits
  // until the key answers, `timeout` has passed (presence_timeout; the key's request is aborted),
  // the key gives up waiting by itself (presence_timeout) or cancel() is called (cancelled).
  // Errors: not_found when the slot is not programmed at all; capability_missing when it is
  // programmed but does not answer challenges (e.g. holds an OTP); token_removed;
  // malformed_reply (bad CRC, wrong length); io_error; token_error.
  virtual Result<SecretBytes> challenge_response(OtpSlot slot,
                                                 std::span<const std::uint8_t, 64> challenge,
                                                 std::chrono::milliseconds timeout,
                                                 TouchPrompt on_touch) = 0;

  // Programs `slot` for HMAC-SHA1 challenge-response with a fresh random 20-byte key (drawn from
  // OpenSSL's RAND_bytes), fixed 64-byte challenges (no HMAC_LT64), and "a touch is required for
  // every challenge" (CHAL_BTN_TRIG) when `require_touch`. The key is written to the token and
  // wiped from host memory at once; no method ever returns it. A programmed slot is refused with
  // invalid_argument unless `force` (overwriting destroys the old key and with it every password
  // derived from it). Succeeds only if the key reports a new programming sequence and the slot as
  // programmed afterwards; otherwise token_error (e.g. the slot is protected by an access code).
  // Needs no touch. Errors also: capability_missing (firmware too old), token_removed, io_error.
  virtual Status program_challenge_response(OtpSlot slot, bool require_touch, bool force) = 0;
};

// One opened token: what every token does, and the applications it has (facets). Methods other
// than cancel() are called from one thread at a time.
class Token {
 public:
  virtual ~Token() = default;

  virtual const TokenInfo& info() const = 0;

  // The token's FIDO2 application; null when it has none (a YubiKey's OTP interface). Owned by
  // the token and valid as long as it is.
  virtual Fido2Facet* fido2() { return nullptr; }
  // The token's YubiKey OTP application; null when it has none (FIDO2 tokens). Owned by the token
  // and valid as long as it is.
  virtual OtpFacet* otp() { return nullptr; }

  // Waits until a person touches this token, without creating a credential or sending a PIN
  // (CTAP "touch to select", libfido2's fido_dev_get_touch_begin/status). Used to pick one of
  // several present tokens. on_touch is not called (the caller prompts once for all tokens).
  // Errors: presence_timeout, cancelled (cancel() from another thread), token_removed;
  // presence_denied when the token reports that the touch was refused (a key with a "deny"
  // gesture, or the virtual token set to deny): that token was not chosen; capability_missing
  // for a token that cannot be selected by touch (YubiKey OTP).
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
