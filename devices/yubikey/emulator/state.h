// The persistent state of the emulated YubiKey (libtouchpass-ykemu) and its JSON file.
//
// The emulator reads its state from the file named by the environment variable
// TOUCHPASS_YKEMU_STATE, re-reads it whenever the file changes (a test or a person edits it while
// a program runs), and writes it back, by atomic replace, when a slot is programmed. Without the
// variable the key lives in memory only, starting from EmulatorState{}.
//
// The file (every member optional; defaults as below):
//   { "present": true,                  // false: no key plugged in (an empty device list)
//     "serial": 12345678,
//     "serial_visible": true,           // false: the key does not answer serial requests
//     "firmware": "5.4.3",
//     "programming_sequence": 0,
//     "slots": { "1": { "key": "<40 hex>",           // the 20-byte HMAC-SHA1 key
//                       "mode": "hmac",              // "hmac": HMAC-SHA1 challenge-response;
//                                                    // "other": an OTP configuration
//                       "require_touch": false,      // CHAL_BTN_TRIG
//                       "hmac_lt64": false,          // HMAC_LT64
//                       "access_code": "<12 hex>" }, // "000000000000": none
//                "2": null },                        // absent or null: not programmed
//     "touch": "auto",                  // "auto": touched touch_delay_ms after the key starts
//                                       // waiting; "never": nobody touches it
//     "touch_delay_ms": 0,
//     "touch_timeout_s": 15,            // the key gives up waiting for a touch after this
//     "remove_after_transfers": null,   // N: the key is pulled out after N more control
//                                       // transfers (counted from when this file was loaded)
//     "corrupt_response_crc": false,    // challenge-response answers carry a wrong CRC
//     "deny_access": false }            // opening the device fails with LIBUSB_ERROR_ACCESS
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace touchpass::ykemu {

inline constexpr std::size_t kHmacKeyBytes = 20;
inline constexpr std::size_t kAccessCodeBytes = 6;

struct SlotState {
  enum class Mode { hmac, other };
  Mode mode = Mode::hmac;
  std::array<std::uint8_t, kHmacKeyBytes> key{};
  bool require_touch = false;
  bool hmac_lt64 = false;
  std::array<std::uint8_t, kAccessCodeBytes> access_code{};
};

enum class TouchMode { automatic, never };

struct EmulatorState {
  bool present = true;
  std::uint32_t serial = 12345678;
  bool serial_visible = true;
  std::array<std::uint8_t, 3> firmware{5, 4, 3};
  std::uint8_t programming_sequence = 0;
  std::array<std::optional<SlotState>, 2> slots;  // [0] = slot 1, [1] = slot 2
  TouchMode touch = TouchMode::automatic;
  std::uint32_t touch_delay_ms = 0;
  std::uint32_t touch_timeout_s = 15;
  std::optional<std::uint32_t> remove_after_transfers;
  bool corrupt_response_crc = false;
  bool deny_access = false;
};

// The JSON text of `state` (the format above).
std::string to_json(const EmulatorState& state);

// Parses the format above; nullopt (and a reason in *error) for anything else.
std::optional<EmulatorState> from_json(std::string_view text, std::string* error);

// Reads and parses `path`; nullopt (and a reason) when it cannot be read or parsed.
std::optional<EmulatorState> load_state(const std::string& path, std::string* error);

// Writes `state` to `path` atomically (a temporary file beside it, fsync, rename).
bool save_state(const std::string& path, const EmulatorState& state, std::string* error);

}  // namespace touchpass::ykemu
