// The CRC-16 of the YubiKey OTP application's wire protocol (the one libyubikey's yubikey_crc16
// computes): CRC-16/ISO-HDLC's register, reflected polynomial 0x8408, initial value 0xFFFF, no
// final inversion. Senders append the one's complement of the CRC, little-endian; a receiver
// recomputing the CRC over data || appended CRC then gets the constant residual 0xF0B8.
//
// Used by the backend (to check responses it reassembles itself) and by the emulator (to check
// the frames libykpers sends and to seal its responses); libykpers' own frames and checks are
// the independent side of both.
#pragma once

#include <cstdint>
#include <span>

namespace touchpass::devices::yubikey {

inline constexpr std::uint16_t kCrcResidualOk = 0xF0B8;

inline std::uint16_t otp_crc16(std::span<const std::uint8_t> data) {
  std::uint16_t crc = 0xFFFF;
  for (const std::uint8_t byte : data) {
    crc = static_cast<std::uint16_t>(crc ^ byte);
    for (int bit = 0; bit < 8; ++bit) {
      const bool carry = (crc & 1U) != 0;
      crc = static_cast<std::uint16_t>(crc >> 1U);
      if (carry) crc = static_cast<std::uint16_t>(crc ^ 0x8408U);
    }
  }
  return crc;
}

}  // namespace touchpass::devices::yubikey
