#include "devices/yubikey/yubikey_token.h"

#include <openssl/crypto.h>

#include <array>
#include <thread>
#include <utility>
#include <vector>

#include "core/random.h"
#include "devices/yubikey/crc16.h"
#include "devices/yubikey/discovery.h"
#include "devices/yubikey/errors.h"

namespace touchpass::devices::yubikey {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kReportBytes = 8;
constexpr std::size_t kChunkBytes = 7;
// HMAC-SHA1 response: 20 bytes and a 2-byte CRC, in whole 7-byte chunks (4 chunks).
constexpr std::size_t kResponseWithCrc = kOtpResponseBytes + 2;
constexpr std::size_t kMaxResponseChunks = 10;

using Report = std::array<std::uint8_t, kReportBytes>;

std::size_t slot_index(OtpSlot slot) {
  return slot == OtpSlot::one ? 0 : 1;
}

std::string slot_name(OtpSlot slot) {
  return slot == OtpSlot::one ? "1" : "2";
}

// Reads one report from the key: yk_wait_for_key_status asked to wait at most 1 ms for the
// touch-wait flag hands back the whole report in `report` whether or not the flag is set (it
// then fails with YK_ETIMEOUT). Any other failure is a USB failure.
Status read_report(YK_KEY* key, Report& report) {
  report.fill(0);
  if (yk_wait_for_key_status(key, 0, 0, 1, true, RESP_TIMEOUT_WAIT_FLAG, report.data()) != 0)
    return Status::success();
  const LibraryFailure failure = capture_failure();
  if (failure.yk_error == YK_ETIMEOUT) return Status::success();
  return translate_failure(failure);
}

// Ends whatever the key is doing (dummy report 0x8F). Failures are ignored: the operation's
// own result is what the caller needs.
void reset_key(YK_KEY* key) {
  (void)yk_force_key_update(key);
}

}  // namespace

Result<OtpStatus> read_otp_status(YK_KEY* key) {
  StatusPtr status(ykds_alloc());
  if (!status) return Error(Code::internal, "Out of memory while talking to the YubiKey.");
  if (yk_get_status(key, status.get()) == 0) return translate_failure(capture_failure());
  OtpStatus out;
  out.firmware.major = static_cast<std::uint8_t>(ykds_version_major(status.get()));
  out.firmware.minor = static_cast<std::uint8_t>(ykds_version_minor(status.get()));
  out.firmware.build = static_cast<std::uint8_t>(ykds_version_build(status.get()));
  out.programming_sequence = static_cast<std::uint8_t>(ykds_pgm_seq(status.get()));
  const int touch_level = ykds_touch_level(status.get());
  out.slots[0].programmed = (touch_level & CONFIG1_VALID) != 0;
  out.slots[1].programmed = (touch_level & CONFIG2_VALID) != 0;
  unsigned int serial = 0;
  if (yk_get_serial(key, 0, 0, &serial) != 0) {
    out.serial = serial;
  } else {
    const LibraryFailure failure = capture_failure();
    // A key that hides its serial does not answer (YK_ETIMEOUT); anything else is a real error.
    if (failure.yk_error != YK_ETIMEOUT) return translate_failure(failure);
  }
  return out;
}

Result<std::unique_ptr<YubiKeyToken>> YubiKeyToken::open(const TokenInfo& info) {
  if (info.transport != Transport::yubikey_otp)
    return Error(Code::invalid_argument, "Not a YubiKey OTP token: " + info.path);
  auto lock = lock_libykpers();
  if (!lock) return lock.error();
  auto key = open_key_locked(info.path);
  if (!key) return key.error();
  return std::unique_ptr<YubiKeyToken>(new YubiKeyToken(info));
}

Result<KeyPtr> YubiKeyToken::open_key() {
  auto key = open_key_locked(info_.path);
  if (!key && key.code() == Code::no_token) return key_removed();
  return key;
}

Status YubiKeyToken::wait_for_touch(milliseconds) {
  return Status(
      Code::capability_missing,
      "A YubiKey's OTP application cannot be selected by touch; it is named by its serial.");
}

void YubiKeyToken::cancel() {
  cancel_requested_.store(true);
}

Result<OtpStatus> YubiKeyToken::otp_status() {
  auto lock = lock_libykpers();
  if (!lock) return lock.error();
  auto key = open_key();
  if (!key) return key.error();
  auto status = read_otp_status(key->get());
  if (!status) return status;
  for (std::size_t i = 0; i < known_touch_.size(); ++i) {
    if (status->slots[i].programmed) status->slots[i].requires_touch = known_touch_[i];
  }
  return status;
}

Result<SecretBytes> YubiKeyToken::challenge_response(OtpSlot slot,
                                                     std::span<const std::uint8_t, 64> challenge,
                                                     milliseconds timeout, TouchPrompt on_touch) {
  cancel_requested_.store(false);
  auto lock = lock_libykpers();
  if (!lock) return lock.error();
  auto key = open_key();
  if (!key) return key.error();
  return challenge_response_locked(key->get(), slot, challenge, timeout, on_touch);
}

Result<SecretBytes> YubiKeyToken::challenge_response_locked(
    YK_KEY* key, OtpSlot slot, std::span<const std::uint8_t, 64> challenge, milliseconds timeout,
    const TouchPrompt& on_touch) {
  {
    StatusPtr status(ykds_alloc());
    if (!status) return Error(Code::internal, "Out of memory while talking to the YubiKey.");
    if (yk_get_status(key, status.get()) == 0) return translate_failure(capture_failure());
    const int valid = slot == OtpSlot::one ? CONFIG1_VALID : CONFIG2_VALID;
    if ((ykds_touch_level(status.get()) & valid) == 0) return slot_not_programmed(slot);
  }

  const std::uint8_t command = slot == OtpSlot::one ? SLOT_CHAL_HMAC1 : SLOT_CHAL_HMAC2;
  const auto start = Clock::now();
  if (yk_write_to_key(key, command, challenge.data(), static_cast<int>(challenge.size())) == 0) {
    const Error error = translate_failure(capture_failure());
    reset_key(key);
    return error;
  }

  // Wait for the first response chunk, prompting once if the key asks for a touch.
  Report report{};
  bool waiting_for_touch = false;
  for (;;) {
    if (Status read = read_report(key, report); !read.ok()) return read.error();
    const std::uint8_t flags = report[kReportBytes - 1];
    if ((flags & RESP_PENDING_FLAG) != 0) break;
    const auto now = Clock::now();
    if (cancel_requested_.load()) {
      reset_key(key);
      return Error(Code::cancelled, "The operation was cancelled.");
    }
    if ((flags & RESP_TIMEOUT_WAIT_FLAG) != 0) {
      if (!waiting_for_touch) {
        waiting_for_touch = true;
        if (on_touch) on_touch();
      }
      if (now - start >= timeout) {
        reset_key(key);
        return touch_timeout();
      }
      std::this_thread::sleep_for(kTouchPoll);
      continue;
    }
    if (waiting_for_touch) {  // the key stopped waiting by itself: its own touch timeout
      reset_key(key);
      return touch_timeout();
    }
    if (now - start >= kAnswerBudget) {
      reset_key(key);
      return Error(Code::capability_missing,
                   "Slot " + slot_name(slot) +
                       " of this YubiKey does not answer HMAC-SHA1 challenges: it holds another "
                       "kind of configuration. Program it for challenge-response with `touchpass "
                       "enroll --kind yubikey --program --force` (this erases what it holds).");
    }
  }

  // Read the remaining chunks (0x40 | 1, 2, …) until the sequence wraps to 0.
  // Room for every chunk from the start: a growing vector would leave pieces of the response
  // (the secret) in the buffers it frees.
  std::vector<std::uint8_t> response;
  response.reserve(kChunkBytes * (kMaxResponseChunks + 1));
  response.insert(response.end(), report.begin(), report.begin() + kChunkBytes);
  std::size_t expected_seq = 1;
  bool complete = false;
  for (std::size_t reads = 0; reads < kMaxResponseChunks && !complete; ++reads) {
    if (Status read = read_report(key, report); !read.ok()) {
      OPENSSL_cleanse(response.data(), response.size());
      return read.error();
    }
    const std::uint8_t flags = report[kReportBytes - 1];
    const std::size_t seq = flags & 0x1FU;
    if ((flags & RESP_PENDING_FLAG) == 0 || (seq != 0 && seq != expected_seq)) break;
    if (seq == 0) {
      complete = true;
    } else {
      response.insert(response.end(), report.begin(), report.begin() + kChunkBytes);
      ++expected_seq;
    }
  }
  OPENSSL_cleanse(report.data(), report.size());
  reset_key(key);

  Error failure;
  bool failed = true;
  if (!complete) {
    failure = malformed_reply("response chunks out of sequence");
  } else if (response.size() < kResponseWithCrc) {
    failure = malformed_reply("response too short");
  } else if (otp_crc16(std::span<const std::uint8_t>(response.data(), kResponseWithCrc)) !=
             kCrcResidualOk) {
    failure = malformed_reply("response CRC mismatch");
  } else {
    failed = false;
  }
  if (failed) {
    OPENSSL_cleanse(response.data(), response.size());
    return failure;
  }
  SecretBytes secret =
      SecretBytes::copy_of(std::span<const std::uint8_t>(response.data(), kOtpResponseBytes));
  OPENSSL_cleanse(response.data(), response.size());
  return secret;
}

Status YubiKeyToken::program_challenge_response(OtpSlot slot, bool require_touch, bool force) {
  auto lock = lock_libykpers();
  if (!lock) return lock.error();
  auto key_result = open_key();
  if (!key_result) return key_result.error();
  YK_KEY* key = key_result->get();

  StatusPtr before(ykds_alloc());
  if (!before) return Status(Code::internal, "Out of memory while talking to the YubiKey.");
  if (yk_get_status(key, before.get()) == 0) return translate_failure(capture_failure());
  const int valid = slot == OtpSlot::one ? CONFIG1_VALID : CONFIG2_VALID;
  const bool has_valid_bits =
      ykds_version_major(before.get()) > 2 ||
      (ykds_version_major(before.get()) == 2 && ykds_version_minor(before.get()) >= 1);
  const bool programmed = !has_valid_bits || (ykds_touch_level(before.get()) & valid) != 0;
  if (programmed && !force) {
    return Status(Code::invalid_argument,
                  "Slot " + slot_name(slot) +
                      " of this YubiKey is already programmed (or its firmware cannot tell). "
                      "Overwriting it destroys its key and every password derived from it; pass "
                      "--force to overwrite it anyway.");
  }

  ConfigPtr config(ykp_alloc());
  if (!config) return Status(Code::internal, "Out of memory while preparing the YubiKey.");
  ykp_configure_version(config.get(), before.get());
  const std::uint8_t command = slot == OtpSlot::one ? SLOT_CONFIG : SLOT_CONFIG2;
  const auto ykp_failure = []() {
    LibraryFailure failure;
    failure.ykp_error = ykp_errno;
    return translate_failure(failure);
  };
  if (ykp_configure_command(config.get(), command) == 0) return ykp_failure();
  {
    SecretBytes hmac_key(kOtpResponseBytes);
    if (Status s = fill_random(hmac_key.bytes()); !s.ok()) return s;
    ykp_HMAC_key_from_raw(config.get(), reinterpret_cast<const char*>(hmac_key.data()));
  }  // hmac_key is wiped here; the only copy left is in config (wiped by ConfigDeleter)
  if (ykp_set_tktflag_CHAL_RESP(config.get(), true) == 0 ||
      ykp_set_cfgflag_CHAL_HMAC(config.get(), true) == 0 ||
      ykp_set_cfgflag_HMAC_LT64(config.get(), false) == 0 ||
      ykp_set_cfgflag_CHAL_BTN_TRIG(config.get(), require_touch) == 0 ||
      ykp_set_extflag_SERIAL_API_VISIBLE(config.get(), true) == 0) {
    return ykp_failure();
  }

  const bool written = yk_write_command(key, ykp_core_config(config.get()), command, nullptr) != 0;
  const LibraryFailure write_failure = written ? LibraryFailure{} : capture_failure();
  config.reset();  // wipe the key now, whatever happened
  if (!written) return translate_failure(write_failure);

  StatusPtr after(ykds_alloc());
  if (!after) return Status(Code::internal, "Out of memory while talking to the YubiKey.");
  if (yk_get_status(key, after.get()) == 0) return translate_failure(capture_failure());
  if (ykds_pgm_seq(after.get()) == ykds_pgm_seq(before.get()) ||
      (has_valid_bits && (ykds_touch_level(after.get()) & valid) == 0)) {
    return Status(Code::token_error,
                  "The YubiKey did not accept the new configuration of slot " + slot_name(slot) +
                      " (it may be protected by an access code). Nothing was changed.");
  }
  known_touch_[slot_index(slot)] = require_touch;
  return Status::success();
}

}  // namespace touchpass::devices::yubikey
