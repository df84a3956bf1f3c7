// YubiKeyToken: devices::Token for the OTP application of a YubiKey, on libykpers-1 (HMAC-SHA1
// challenge-response in slot 1 or 2, DESIGN.md §4.2). The key's FIDO2 application, if any, is a
// separate token of the libfido2 backend.
//
// Decisions beyond devices/token.h:
// - Locking (libykpers.h): one process-wide lock serializes every libykpers call; an operation
//   holds it from opening the key to closing it, including a touch wait. A YubiKey that waits for
//   a touch therefore delays other YubiKey operations (and YubiKey discovery) of this process
//   until it is touched, the timeout passes or the operation is cancelled; nothing else waits.
//   on_touch runs with the lock held and must not call back into this backend.
// - The key is opened for each operation and closed after it, found again by its serial (or,
//   for a key that hides its serial, by its position in libusb's list). A key that is gone by
//   then gives token_removed.
// - Challenge-response does not use yk_challenge_response: libykpers 1.20 waits up to 256 s for
//   a touch with no way to stop it earlier. Instead the backend sends the challenge with
//   yk_write_to_key and reads the key's reports one at a time with yk_wait_for_key_status (asked
//   to wait at most 1 ms for the touch-wait flag; it hands back the whole 8-byte report either
//   way). So it sees the touch-wait status (0x20 | seconds) and calls on_touch, honours the
//   caller's timeout and cancel(), then reads the response chunks (0x40 | seq, until seq wraps to
//   0) and checks length and CRC itself (residual 0xF0B8) before returning S. Whatever the
//   outcome, the key is reset with the dummy report 0x8F (yk_force_key_update): an abandoned
//   request stops waiting for a touch.
// - A slot whose "valid" status bit is clear is not_found before anything is sent. A programmed
//   slot that does not answer a challenge within kAnswerBudget without asking for a touch holds
//   another kind of configuration: capability_missing.
// - Programming writes a configuration with TKTFLAG_CHAL_RESP, CFGFLAG_CHAL_HMAC,
//   CHAL_BTN_TRIG (if asked), no HMAC_LT64, no access code, and EXTFLAG_SERIAL_API_VISIBLE (so
//   the serial that names the key in grants stays readable). The key is drawn into SecretBytes,
//   copied into libykpers' configuration (ykp_HMAC_key_from_raw: key[16] || uid[4]) and wiped;
//   the configuration is wiped before it is freed. libykpers copies it into stack buffers of its
//   own that it does not wipe; later calls overwrite them. A slot counts as programmed when its
//   valid bit is set; on firmware before 2.1, which has no such bits, programming needs `force`.
// - An overwrite without `force` is invalid_argument.
// - The FIDO2 methods (capabilities, PINs, enroll, assert_hmac_secret) and wait_for_touch fail
//   with capability_missing: the OTP application has no such operations.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>

#include "devices/token.h"
#include "devices/yubikey/libykpers.h"

namespace touchpass::devices::yubikey {

// The TokenInfo::path prefix of YubiKey OTP tokens: "yubikey-otp:<serial>" or
// "yubikey-otp:index:<n>".
inline constexpr std::string_view kPathPrefix = "yubikey-otp:";

class YubiKeyToken final : public Token, public OtpFacet {
 public:
  // How long a slot that needs no touch may take to answer a challenge.
  static constexpr std::chrono::milliseconds kAnswerBudget{2000};
  // How often the key's status is polled while it waits for a touch.
  static constexpr std::chrono::milliseconds kTouchPoll{20};

  // Checks that the key of `info` (transport yubikey_otp, from YubiKeyDiscovery) is present.
  // Errors: invalid_argument for another transport or path, no_token when it is gone, io_error
  // (permissions), token_error.
  static Result<std::unique_ptr<YubiKeyToken>> open(const TokenInfo& info);

  const TokenInfo& info() const override { return info_; }
  OtpFacet* otp() override { return this; }
  Status wait_for_touch(std::chrono::milliseconds timeout) override;
  // Makes a running challenge_response stop with cancelled (within kTouchPoll). Safe from any
  // thread; does nothing when no operation runs.
  void cancel() override;

  Result<OtpStatus> otp_status() override;
  Result<SecretBytes> challenge_response(OtpSlot slot, std::span<const std::uint8_t, 64> challenge,
                                         std::chrono::milliseconds timeout,
                                         TouchPrompt on_touch) override;
  Status program_challenge_response(OtpSlot slot, bool require_touch, bool force) override;

 private:
  explicit YubiKeyToken(TokenInfo info) : info_(std::move(info)) {}

  // Opens this token's key. Precondition: the libykpers lock is held.
  Result<KeyPtr> open_key();
  Result<SecretBytes> challenge_response_locked(YK_KEY* key, OtpSlot slot,
                                                std::span<const std::uint8_t, 64> challenge,
                                                std::chrono::milliseconds timeout,
                                                const TouchPrompt& on_touch);

  TokenInfo info_;
  std::atomic<bool> cancel_requested_{false};
  // Whether a slot needs a touch, as far as this object knows (it programmed the slot).
  std::array<std::optional<bool>, 2> known_touch_{};
};

// Reads the OTP status of an open key (status report, then the serial: 0 if the key hides it).
// Precondition: the libykpers lock is held.
Result<OtpStatus> read_otp_status(YK_KEY* key);

}  // namespace touchpass::devices::yubikey
