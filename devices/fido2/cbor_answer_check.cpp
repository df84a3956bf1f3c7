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

// The CTAP commands whose answers carry authenticator data under key 2 (CTAP 2.1 §6.1.2,
// §6.2.2), and its layout: rpIdHash (32), flags (1), signCount (4), then with AT the attested
// credential data — aaguid (16), credentialIdLength (2), credentialId, COSE key — and with ED
// the extension outputs.
constexpr std::uint8_t kMakeCredential = 0x01;
constexpr std::uint8_t kGetAssertion = 0x02;
constexpr std::uint8_t kGetNextAssertion = 0x08;
constexpr std::uint64_t kAuthenticatorDataKey = 2;
constexpr std::size_t kAuthDataFixed = 32 + 1 + 4;
constexpr std::size_t kFlagsOffset = 32;
constexpr std::uint8_t kFlagAt = 0x40;
constexpr std::uint8_t kFlagEd = 0x80;
constexpr std::size_t kAttestedFixed = 16 + 2;
constexpr int kMajorUnsigned = 0;
constexpr int kMajorBytes = 2;
constexpr int kMajorMap = 5;

std::uint32_t channel_of(std::span<const std::uint8_t, CborAnswerCheck::kReportSize> report) {
  return (std::uint32_t{report[0]} << 24) | (std::uint32_t{report[1]} << 16) |
         (std::uint32_t{report[2]} << 8) | std::uint32_t{report[3]};
}

// Whether the CBOR libfido2 decodes from the authenticator data `auth` is well-formed, read as
// libfido2 1.12 reads it: after makeCredential the COSE key (AT) and the extension outputs (ED)
// in turn; after getAssertion only the extension outputs, right after signCount. Data libfido2
// refuses before reaching CBOR (cut short, AT missing after makeCredential) passes.
bool embedded_cbor_well_formed(std::span<const std::uint8_t> auth, bool attested_credential) {
  if (auth.size() < kAuthDataFixed) return true;
  const std::uint8_t flags = auth[kFlagsOffset];
  std::span<const std::uint8_t> rest = auth.subspan(kAuthDataFixed);
  if (attested_credential) {
    if ((flags & kFlagAt) == 0 || rest.size() < kAttestedFixed) return true;
    const std::size_t id_size = (std::size_t{rest[16]} << 8) | rest[17];
    rest = rest.subspan(kAttestedFixed);
    if (rest.size() < id_size) return true;
    rest = rest.subspan(id_size);
    const std::optional<std::size_t> key = cbor_item_extent(rest);
    if (!key) return false;
    rest = rest.subspan(*key);
  }
  return (flags & kFlagEd) == 0 || cbor_item_extent(rest).has_value();
}

// Whether every authenticator data (a byte string under key 2) in the answer map `body` — a
// well-formed item — embeds well-formed CBOR. Any key that libfido2 takes for 2 counts.
bool authenticator_data_well_formed(std::span<const std::uint8_t> body, bool attested_credential) {
  const std::optional<CborHead> map = cbor_head(body);
  if (!map || map->major != kMajorMap) return true;  // libfido2 refuses it itself
  std::size_t pos = map->size;
  for (std::uint64_t pair = 0; pair < map->argument; ++pair) {
    const std::optional<CborHead> key = cbor_head(body.subspan(pos));
    const std::optional<std::size_t> key_size = cbor_item_extent(body.subspan(pos));
    if (!key || !key_size) return false;
    pos += *key_size;
    const std::optional<CborHead> value = cbor_head(body.subspan(pos));
    const std::optional<std::size_t> value_size = cbor_item_extent(body.subspan(pos));
    if (!value || !value_size) return false;
    if (key->major == kMajorUnsigned && key->argument == kAuthenticatorDataKey &&
        value->major == kMajorBytes &&
        !embedded_cbor_well_formed(body.subspan(pos + value->size, value->argument),
                                   attested_credential)) {
      return false;
    }
    pos += *value_size;
  }
  return true;
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

bool CborAnswerCheck::finish_if_complete(std::uint8_t request) {
  if (payload_.size() < announced_) return true;
  collecting_ = false;
  bool well_formed = true;
  if (payload_.size() > 1 && payload_[0] == kCtapOk) {
    const std::span<const std::uint8_t> body = std::span(payload_).subspan(1);
    well_formed = cbor_item_extent(body).has_value();
    if (well_formed &&
        (request == kMakeCredential || request == kGetAssertion || request == kGetNextAssertion)) {
      well_formed = authenticator_data_well_formed(body, request == kMakeCredential);
    }
  }
  payload_.clear();
  return well_formed;
}

bool CborAnswerCheck::accept(std::span<const std::uint8_t, kReportSize> report,
                             std::uint8_t request) {
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
  return !collecting_ || finish_if_complete(request);
}

}  // namespace touchpass::devices::fido2
