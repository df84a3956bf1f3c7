// A check of what a token answers, made before libfido2 decodes it. libfido2 1.12 hands every
// CTAPHID_CBOR answer to libcbor, which allocates whatever a CBOR header announces: a hostile
// USB device answering "an array of 2^28 items" in five bytes makes the program allocate and
// clear 2 GiB (tests/fuzz/findings/fido2-huge-cbor-array). The transport (report_io) follows
// the reports of each answer as they arrive and withholds the last report of a CTAPHID_CBOR
// answer whose CBOR is not well-formed, so that libfido2 fails the exchange instead of decoding.
// libfido2 also hands libcbor CBOR embedded in the authenticator data of makeCredential and
// getAssertion answers (the credential's COSE key, the extension outputs; found by the fuzzer:
// tests/fuzz/findings/fido2-huge-cbor-in-authdata): those are checked the same way, where
// libfido2 reads them. Pure: no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace touchpass::devices::fido2 {

class CborAnswerCheck {
 public:
  static constexpr std::size_t kReportSize = 64;  // a CTAPHID report, without report id

  // Takes the next report a token sent (after the transport checked its size); `request` is
  // the CTAP command byte of the last CTAPHID_CBOR request sent on this connection (0: none).
  // Returns false when it completes a CTAPHID_CBOR answer with status 0 whose payload after the
  // status byte does not start with one well-formed, definite-length CBOR item
  // (core/cbor_extent.h), or — answering makeCredential, getAssertion or getNextAssertion —
  // whose authenticator data (the byte string under key 2) embeds a COSE key or extension
  // outputs that libfido2 would decode and that are not one such item; true otherwise. Other
  // commands, keepalives, error answers and answers libfido2 refuses itself (wrong sequence,
  // wrong channel, authenticator data cut short) pass, as does any report of an unfinished
  // answer.
  bool accept(std::span<const std::uint8_t, kReportSize> report, std::uint8_t request);

 private:
  void start(std::span<const std::uint8_t, kReportSize> report);
  bool finish_if_complete(std::uint8_t request);

  bool collecting_ = false;
  std::uint32_t channel_ = 0;
  std::uint8_t next_sequence_ = 0;
  std::size_t announced_ = 0;
  std::vector<std::uint8_t> payload_;
};

}  // namespace touchpass::devices::fido2
