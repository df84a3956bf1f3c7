// OtpDevice: the OTP application of an emulated YubiKey at the level of its 8-byte HID feature
// reports, i.e. what a real key answers to libykpers' SET_REPORT and GET_REPORT control
// transfers. The libusb-1.0 shim (libusb_shim.cpp) feeds it; it knows nothing about USB.
//
// The protocol, as the key sees it (ykdef.h names; every multi-byte field little-endian except
// the serial):
// - GET_REPORT in the idle state returns the status: byte 0 reserved (0), 1-3 firmware
//   major/minor/build, 4 programming sequence, 5-6 touch level (bit 0 slot 1 valid, bit 1 slot 2
//   valid), 7 flags (0).
// - SET_REPORT with flags 0x80|seq (seq 0..9) carries bytes seq*7..seq*7+6 of a 70-byte frame:
//   64 payload | slot command | CRC-16 of the payload | 3 filler. The host leaves out all-zero
//   chunks other than the first and the last, so seq 0 starts a new (zeroed) frame and seq 9
//   makes the key act on it. A frame whose CRC does not match is ignored, as a real key does.
// - SET_REPORT with flags 0x8F (DUMMY_REPORT_WRITE) aborts whatever is pending: idle again.
// - SLOT_CONFIG / SLOT_CONFIG2: the payload is a 52-byte configuration (its own CRC, residual
//   0xF0B8) then the 6-byte current access code. All zero erases the slot. An HMAC-SHA1
//   challenge-response configuration (TKTFLAG_CHAL_RESP and CFGFLAG_CHAL_HMAC) keeps its 20-byte
//   key as key[16] || uid[0..4] (ykp_HMAC_key_from_raw's layout); anything else is recorded as a
//   configuration of another kind. A slot with an access code is only rewritten when the frame
//   carries that code. Each accepted write increments the programming sequence (0 once no slot
//   is programmed) and the state is saved.
// - SLOT_DEVICE_SERIAL: responds with the serial, 4 bytes big-endian (unless hidden).
// - SLOT_CHAL_HMAC1 / SLOT_CHAL_HMAC2: HMAC-SHA1 under the slot's key of the 64-byte challenge
//   (with HMAC_LT64: without the trailing bytes equal to its last byte). A slot that is not
//   programmed for HMAC challenge-response does not answer (the host times out). A slot with
//   CHAL_BTN_TRIG first reports 0x20|seconds-left until it is "touched" (state.touch), or until
//   state.touch_timeout_s passes, after which it is idle again without answering.
// - A response is data || ~CRC-16(data) (little-endian), zero-padded to whole 7-byte chunks,
//   read as GET_REPORTs with flags 0x40|seq; after the last chunk the sequence wraps to 0
//   (chunk 0 again), which tells the host it has everything. The host then writes 0x8F.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "devices/yubikey/emulator/state.h"

namespace touchpass::ykemu {

inline constexpr std::size_t kReportBytes = 8;
using Report = std::array<std::uint8_t, kReportBytes>;

class OtpDevice {
 public:
  using Clock = std::chrono::steady_clock;
  // Called after a slot was (re)programmed or erased, with the new state to persist.
  using SaveHook = std::function<void(const EmulatorState&)>;

  OtpDevice(EmulatorState* state, SaveHook save) : state_(state), save_(std::move(save)) {}

  // The answer to one GET_REPORT at time `now`.
  Report get_report(Clock::time_point now);
  // One SET_REPORT at time `now`.
  void set_report(const Report& report, Clock::time_point now);
  // Forgets any pending frame, touch wait or response (the key was unplugged and plugged in).
  void reset();

 private:
  enum class Mode { idle, waiting_for_touch, responding };

  Report status_report(std::uint8_t flags) const;
  void act_on_frame(Clock::time_point now);
  void program_slot(std::size_t index, std::span<const std::uint8_t> payload);
  void start_challenge(std::size_t index, std::span<const std::uint8_t> challenge,
                       Clock::time_point now);
  // HMAC-SHA1 of challenge_ under the key of slot challenge_slot_, as the response.
  void answer_challenge();
  // Makes `data` the pending response; with `corrupt_crc` its CRC is wrong.
  void respond(std::span<const std::uint8_t> data, bool corrupt_crc = false);

  EmulatorState* state_;
  SaveHook save_;
  Mode mode_ = Mode::idle;
  std::array<std::uint8_t, 70> frame_{};
  std::array<std::uint8_t, 64> challenge_{};  // kept while waiting for a touch
  std::size_t challenge_slot_ = 0;
  Clock::time_point wait_started_;
  std::vector<std::uint8_t> response_;  // whole 7-byte chunks
  std::size_t next_chunk_ = 0;
};

}  // namespace touchpass::ykemu
