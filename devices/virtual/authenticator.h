// The virtual token's CTAP2.1 authenticator: the CBOR command layer (getInfo, makeCredential,
// getAssertion, getNextAssertion, clientPIN, reset) above the CTAPHID transport of
// ctaphid.h. A development and test device (DESIGN.md §4.3): it behaves like a real key as
// libfido2 sees it, with switches that imitate real-world differences and faults.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"

namespace touchpass::vtoken {

// What a touch request ended with.
enum class Presence { approved, denied, timed_out, cancelled };

// How the authenticator asks its transport for a touch. The transport implements the wait:
// it keeps the host informed (CTAPHID KEEPALIVE at least every 100 ms) and watches for CANCEL.
class PresenceWaiter {
 public:
  virtual ~PresenceWaiter() = default;
  virtual Presence wait_for_presence() = 0;
};

// How the (simulated) user answers a touch request.
struct PresencePolicy {
  enum class Mode { approve, deny, delay };
  Mode mode = Mode::approve;
  std::uint32_t delay_ms = 0;  // for Mode::delay: approve after this long
  // Parses "approve", "deny" or "delay:MS"; nullopt otherwise.
  static std::optional<PresencePolicy> parse(std::string_view text);
};

// Corruptions of the CBOR replies to makeCredential, getAssertion, getNextAssertion and clientPIN
// (never getInfo, so the device still opens).
enum class Fault {
  none,
  truncated,     // the reply CBOR is cut to half its length
  wrong_length,  // well-formed CBOR, but a fixed-size field (authData, a key) has the wrong size
  bad_cbor,      // the reply body is not CBOR at all
  huge_array,    // the reply body announces an array of 2^28 items (a hostile key's answer)
  huge_array_in_auth_data,  // well-formed, but authData's COSE key or extensions announce one
};

// Capabilities and switches that imitate real tokens.
struct Config {
  bool hmac_secret = true;  // false: no hmac-secret extension
  bool ctap21 = true;       // false: CTAP 2.0 only (no pinUvAuthToken, FIDO_2_0 only)
  std::vector<int> pin_protocols = {2, 1};  // {1}: PIN protocol 1 only
  bool self_attestation = false;            // true: packed self attestation (no x5c)
  // A buggy real key: echoes credProtect in makeCredential but stores the credential without it
  // (level 1), so a UV_REQUIRED credential is usable without UV.
  bool ignore_cred_protect = false;
  // A key with built-in UV that always verifies: every request with user presence also counts as
  // verified (UV flag, CredRandomWithUV, credProtect passed) even without PIN or "uv" option;
  // getInfo reports the option "uv": true.
  bool always_uv = false;
  // A key slow to act on CTAPHID_CANCEL: after the CANCEL of a request that waits for a touch, it
  // goes on waiting (busy: every other request, on any channel of any open, is refused with
  // ERR_CHANNEL_BUSY) this long before it answers CTAP2_ERR_KEEPALIVE_CANCEL
  // (ctaphid::Options::cancel_answer_delay).
  std::uint32_t cancel_answer_delay_ms = 0;
  Fault fault = Fault::none;
  // The fault corrupts getInfo's answer too (read by every client when it opens the token).
  bool fault_get_info = false;
  int max_pin_retries = 8;
  std::optional<std::string> initial_pin;  // set when the state file is created
  std::string product = "touchpass virtual token";
};

// CTAP2 status codes used by the authenticator and the transport.
namespace ctap {
inline constexpr std::uint8_t kOk = 0x00;
inline constexpr std::uint8_t kInvalidCommand = 0x01;
inline constexpr std::uint8_t kInvalidParameter = 0x02;
inline constexpr std::uint8_t kInvalidLength = 0x03;
inline constexpr std::uint8_t kInvalidSeq = 0x04;
inline constexpr std::uint8_t kTimeout = 0x05;
inline constexpr std::uint8_t kChannelBusy = 0x06;
inline constexpr std::uint8_t kInvalidChannel = 0x0B;
inline constexpr std::uint8_t kCborUnexpectedType = 0x11;
inline constexpr std::uint8_t kInvalidCbor = 0x12;
inline constexpr std::uint8_t kMissingParameter = 0x14;
inline constexpr std::uint8_t kUnsupportedExtension = 0x16;
inline constexpr std::uint8_t kCredentialExcluded = 0x19;
inline constexpr std::uint8_t kUnsupportedAlgorithm = 0x26;
inline constexpr std::uint8_t kOperationDenied = 0x27;
inline constexpr std::uint8_t kUnsupportedOption = 0x2B;
inline constexpr std::uint8_t kInvalidOption = 0x2C;
inline constexpr std::uint8_t kKeepaliveCancel = 0x2D;
inline constexpr std::uint8_t kNoCredentials = 0x2E;
inline constexpr std::uint8_t kUserActionTimeout = 0x2F;
inline constexpr std::uint8_t kNotAllowed = 0x30;
inline constexpr std::uint8_t kPinInvalid = 0x31;
inline constexpr std::uint8_t kPinBlocked = 0x32;
inline constexpr std::uint8_t kPinAuthInvalid = 0x33;
inline constexpr std::uint8_t kPinAuthBlocked = 0x34;
inline constexpr std::uint8_t kPinNotSet = 0x35;
inline constexpr std::uint8_t kPinRequired = 0x36;
inline constexpr std::uint8_t kPinPolicyViolation = 0x37;
inline constexpr std::uint8_t kRequestTooLarge = 0x39;
inline constexpr std::uint8_t kUpRequired = 0x3B;
inline constexpr std::uint8_t kUvBlocked = 0x3C;
inline constexpr std::uint8_t kOther = 0x7F;
}  // namespace ctap

class Authenticator {
 public:
  // Loads the state file, or creates it (fresh keys, attestation certificate, config.initial_pin)
  // when it does not exist. Error io_error / invalid_argument with the path and reason when the
  // file cannot be read or is not a valid state file; nothing is overwritten then.
  static Result<std::unique_ptr<Authenticator>> open(Config config,
                                                     std::filesystem::path state_file);

  // Handles one CTAPHID_CBOR message: `request` is the command byte followed by CBOR; the reply
  // is the status byte followed by CBOR (if any). Never throws, whatever the bytes. Calls
  // presence.wait_for_presence() whenever user presence is needed. State changes (credentials,
  // PIN, retries, counter) are persisted by atomic replace before the reply is returned.
  // Thread-safe: calls are serialized.
  Bytes handle_cbor(std::span<const std::uint8_t> request, PresenceWaiter& presence);

  // Simulates removing and reinserting the token: new key agreement key and pinUvAuthToken,
  // and the "3 wrong PINs in a row" block lifted.
  void power_cycle();

  // The CTAP commands handled since the last call, in order, by name ("getInfo",
  // "makeCredential", "getAssertion", "getNextAssertion", "reset", "clientPin.getRetries",
  // "clientPin.getKeyAgreement", "clientPin.setPin", "clientPin.changePin",
  // "clientPin.getPinToken", "clientPin.getPinUvAuthToken", or "0xNN" for an unknown command),
  // with "touch" after each approved user presence; clears the record. For tests and benchmarks
  // that count what a client sends (CTAPHID INIT, handled by the transport, is not a command).
  std::vector<std::string> take_command_trace();

  const Config& config() const { return config_; }
  Bytes aaguid() const;
  int pin_retries() const;

  ~Authenticator();

 private:
  struct Impl;
  Authenticator(Config config, std::unique_ptr<Impl> impl);
  Config config_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace touchpass::vtoken
