#include "devices/fido2/cbor_answer_check.h"

#include <algorithm>

#include "core/cbor_extent.h"

namespace touchpass::devices::fido2 {
namespace {

// CTAPHID framing (CTAP 2.1 §11.2.4): an initialization packet is channel (4), command with
// bit 7 set, payload length (2, big endian), payload (57); a continuation packet is channel (4),
// sequence 0..127, payload (59). The longest message: 57 + 128 * 59 bytes.
constexpr std::size_t kInitPayload = 57;
constexpr std::size_t kContinuationPayload = 59;
constexpr std::size_t kMaxMessage = kInitPayload + 128 * kContinuationPayload;
constexpr std::uint8_t kInitBit = 0x80;
constexpr std::uint8_t kCtapHidCbor = 0x90;
constexpr std::uint8_t kCtapOk = 0x00;

std::uint32_t channel_of(std::span<const std::uint8_t, CborAnswerCheck::kReportSize> report) {
  return (std::uint32_t{report[0]} << 24) | (std::uint32_t{report[1]} << 16) |
         (std::uint32_t{report[2]} << 8) | std::uint32_t{report[3]};
}

}  // namespace

void CborAnswerCheck::start(std::span<const std::uint8_t, kReportSize> report) {
  collecting_ = false;
  payload_.clear();
  if (report[4] != kCtapHidCbor) return;  // not CBOR: libfido2 does not hand it to libcbor
  announced_ = (std::size_t{report[5]} << 8) | report[6];
  if (announced_ > kMaxMessage) return;  // libfido2 refuses it unread
  collecting_ = true;
  channel_ = channel_of(report);
  next_sequence_ = 0;
  const std::size_t take = std::min(announced_, kInitPayload);
  payload_.assign(report.begin() + 7, report.begin() + 7 + static_cast<std::ptrdiff_t>(take));
}

bool CborAnswerCheck::finish_if_complete() {
  if (payload_.size() < announced_) return true;
  collecting_ = false;
  bool well_formed = true;
  if (payload_.size() > 1 && payload_[0] == kCtapOk) {
    well_formed = cbor_item_extent(std::span(payload_).subspan(1)).has_value();
  }
  payload_.clear();
  return well_formed;
}

bool CborAnswerCheck::accept(std::span<const std::uint8_t, kReportSize> report) {
  if ((report[4] & kInitBit) != 0) {
    start(report);
  } else {
    if (!collecting_) return true;
    if (channel_of(report) != channel_ || report[4] != next_sequence_) {
      collecting_ = false;  // libfido2 refuses the message itself
      payload_.clear();
      return true;
    }
    ++next_sequence_;
    const std::size_t take = std::min(announced_ - payload_.size(), kContinuationPayload);
    payload_.insert(payload_.end(), report.begin() + 5,
                    report.begin() + 5 + static_cast<std::ptrdiff_t>(take));
  }
  return !collecting_ || finish_if_complete();
}

}  // namespace touchpass::devices::fido2
