#include "devices/yubikey/emulator/otp_device.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstring>

#include "devices/yubikey/crc16.h"

namespace touchpass::ykemu {
namespace {

using devices::yubikey::kCrcResidualOk;
using devices::yubikey::otp_crc16;

// Command bytes and flags of the wire protocol (ykdef.h).
constexpr std::uint8_t kSlotConfig1 = 0x01;
constexpr std::uint8_t kSlotConfig2 = 0x03;
constexpr std::uint8_t kSlotDeviceSerial = 0x10;
constexpr std::uint8_t kSlotChalHmac1 = 0x30;
constexpr std::uint8_t kSlotChalHmac2 = 0x38;
constexpr std::uint8_t kWriteFlag = 0x80;
constexpr std::uint8_t kDummyReportWrite = 0x8F;
constexpr std::uint8_t kResponsePending = 0x40;
constexpr std::uint8_t kTimeoutWait = 0x20;
constexpr std::size_t kChunkBytes = 7;
constexpr std::size_t kFrameChunks = 10;
constexpr std::size_t kPayloadBytes = 64;

// The configuration structure (ykdef.h struct config_st), by offset.
constexpr std::size_t kConfigBytes = 52;
constexpr std::size_t kCfgUid = 16;
constexpr std::size_t kCfgKey = 22;
constexpr std::size_t kCfgAccCode = 38;
constexpr std::size_t kCfgTktFlags = 46;
constexpr std::size_t kCfgCfgFlags = 47;
constexpr std::uint8_t kTktChalResp = 0x40;
constexpr std::uint8_t kCfgChalHmac = 0x22;
constexpr std::uint8_t kCfgHmacLt64 = 0x04;
constexpr std::uint8_t kCfgChalBtnTrig = 0x08;

}  // namespace

void OtpDevice::reset() {
  mode_ = Mode::idle;
  frame_.fill(0);
  OPENSSL_cleanse(challenge_.data(), challenge_.size());
  OPENSSL_cleanse(response_.data(), response_.size());
  response_.clear();
  next_chunk_ = 0;
}

Report OtpDevice::status_report(std::uint8_t flags) const {
  std::uint16_t touch_level = 0;
  if (state_->slots[0]) touch_level |= 0x01;
  if (state_->slots[1]) touch_level |= 0x02;
  return Report{0,
                state_->firmware[0],
                state_->firmware[1],
                state_->firmware[2],
                state_->programming_sequence,
                static_cast<std::uint8_t>(touch_level & 0xFFU),
                static_cast<std::uint8_t>(touch_level >> 8U),
                flags};
}

Report OtpDevice::get_report(Clock::time_point now) {
  if (mode_ == Mode::waiting_for_touch) {
    const auto waited = now - wait_started_;
    const auto give_up = std::chrono::seconds(state_->touch_timeout_s);
    const bool touched = state_->touch == TouchMode::automatic &&
                         waited >= std::chrono::milliseconds(state_->touch_delay_ms);
    if (touched && waited < give_up) {
      answer_challenge();
    } else if (waited >= give_up) {
      OPENSSL_cleanse(challenge_.data(), challenge_.size());
      mode_ = Mode::idle;
    } else {
      const auto left = std::chrono::duration_cast<std::chrono::seconds>(give_up - waited).count();
      return status_report(
          static_cast<std::uint8_t>(kTimeoutWait | std::clamp<long>(left + 1, 1, 31)));
    }
  }
  if (mode_ == Mode::responding) {
    const std::size_t chunks = response_.size() / kChunkBytes;
    const std::size_t index = next_chunk_ % chunks;
    ++next_chunk_;
    Report report{};
    std::memcpy(report.data(), response_.data() + index * kChunkBytes, kChunkBytes);
    report[7] = static_cast<std::uint8_t>(kResponsePending | index);
    return report;
  }
  return status_report(0);
}

void OtpDevice::set_report(const Report& report, Clock::time_point now) {
  const std::uint8_t flags = report[7];
  if (flags == kDummyReportWrite) {
    reset();
    return;
  }
  if ((flags & kWriteFlag) == 0) return;
  const std::size_t seq = flags & 0x1FU;
  if (seq >= kFrameChunks) return;
  if (mode_ != Mode::idle) reset();  // a new request abandons the previous one
  if (seq == 0) frame_.fill(0);
  std::memcpy(frame_.data() + seq * kChunkBytes, report.data(), kChunkBytes);
  if (seq == kFrameChunks - 1) act_on_frame(now);
}

void OtpDevice::act_on_frame(Clock::time_point now) {
  const std::span<const std::uint8_t> payload(frame_.data(), kPayloadBytes);
  const std::uint8_t command = frame_[kPayloadBytes];
  const auto crc =
      static_cast<std::uint16_t>(frame_[kPayloadBytes + 1] | (frame_[kPayloadBytes + 2] << 8U));
  const bool intact = otp_crc16(payload) == crc;
  if (intact) {
    switch (command) {
      case kSlotConfig1:
        program_slot(0, payload);
        break;
      case kSlotConfig2:
        program_slot(1, payload);
        break;
      case kSlotDeviceSerial:
        if (state_->serial_visible) {
          const std::array<std::uint8_t, 4> serial{static_cast<std::uint8_t>(state_->serial >> 24U),
                                                   static_cast<std::uint8_t>(state_->serial >> 16U),
                                                   static_cast<std::uint8_t>(state_->serial >> 8U),
                                                   static_cast<std::uint8_t>(state_->serial)};
          respond(serial);
        }
        break;
      case kSlotChalHmac1:
        start_challenge(0, payload, now);
        break;
      case kSlotChalHmac2:
        start_challenge(1, payload, now);
        break;
      default:
        break;  // commands this emulator does not implement are ignored, like unknown ones
    }
  }
  OPENSSL_cleanse(frame_.data(), frame_.size());
}

void OtpDevice::program_slot(std::size_t index, std::span<const std::uint8_t> payload) {
  const auto config = payload.first(kConfigBytes);
  const auto current_code = payload.subspan(kConfigBytes, kAccessCodeBytes);
  std::optional<SlotState>& slot = state_->slots[index];
  if (slot &&
      !std::equal(slot->access_code.begin(), slot->access_code.end(), current_code.begin())) {
    return;  // protected by an access code the host did not give: nothing changes
  }
  const bool erase = std::all_of(config.begin(), config.end(), [](auto b) { return b == 0; });
  if (erase) {
    slot.reset();
  } else {
    if (otp_crc16(config) != kCrcResidualOk) return;  // a damaged configuration is refused
    SlotState fresh;
    const std::uint8_t tkt = config[kCfgTktFlags];
    const std::uint8_t cfg = config[kCfgCfgFlags];
    fresh.mode = (tkt & kTktChalResp) != 0 && (cfg & kCfgChalHmac) == kCfgChalHmac
                     ? SlotState::Mode::hmac
                     : SlotState::Mode::other;
    std::memcpy(fresh.key.data(), config.data() + kCfgKey, 16);
    std::memcpy(fresh.key.data() + 16, config.data() + kCfgUid, 4);
    fresh.require_touch = (cfg & kCfgChalBtnTrig) != 0;
    fresh.hmac_lt64 = (cfg & kCfgHmacLt64) != 0;
    std::memcpy(fresh.access_code.data(), config.data() + kCfgAccCode, kAccessCodeBytes);
    slot = fresh;
    OPENSSL_cleanse(fresh.key.data(), fresh.key.size());
  }
  if (!state_->slots[0] && !state_->slots[1]) {
    state_->programming_sequence = 0;
  } else {
    state_->programming_sequence = static_cast<std::uint8_t>(
        state_->programming_sequence == 0xFF ? 1 : state_->programming_sequence + 1);
  }
  if (save_) save_(*state_);
}

void OtpDevice::start_challenge(std::size_t index, std::span<const std::uint8_t> challenge,
                                Clock::time_point now) {
  const std::optional<SlotState>& slot = state_->slots[index];
  if (!slot || slot->mode != SlotState::Mode::hmac) return;  // no answer at all
  std::memcpy(challenge_.data(), challenge.data(), challenge_.size());
  challenge_slot_ = index;
  if (slot->require_touch) {
    mode_ = Mode::waiting_for_touch;
    wait_started_ = now;
  } else {
    answer_challenge();
  }
}

void OtpDevice::answer_challenge() {
  const SlotState& slot = *state_->slots[challenge_slot_];
  std::size_t length = challenge_.size();
  if (slot.hmac_lt64) {
    while (length > 0 && challenge_[length - 1] == challenge_[challenge_.size() - 1]) --length;
  }
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_length = 0;
  HMAC(EVP_sha1(), slot.key.data(), static_cast<int>(slot.key.size()), challenge_.data(), length,
       mac.data(), &mac_length);
  OPENSSL_cleanse(challenge_.data(), challenge_.size());
  respond(std::span<const std::uint8_t>(mac.data(), mac_length), state_->corrupt_response_crc);
  OPENSSL_cleanse(mac.data(), mac.size());
}

void OtpDevice::respond(std::span<const std::uint8_t> data, bool corrupt_crc) {
  response_.assign(data.begin(), data.end());
  std::uint16_t crc = static_cast<std::uint16_t>(~otp_crc16(data));
  if (corrupt_crc) crc = static_cast<std::uint16_t>(crc ^ 0x0101U);
  response_.push_back(static_cast<std::uint8_t>(crc & 0xFFU));
  response_.push_back(static_cast<std::uint8_t>(crc >> 8U));
  response_.resize((response_.size() + kChunkBytes - 1) / kChunkBytes * kChunkBytes, 0);
  next_chunk_ = 0;
  mode_ = Mode::responding;
}

}  // namespace touchpass::ykemu
