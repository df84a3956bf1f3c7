#include "devices/yubikey/emulator/state.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <span>
#include <sstream>

#include "core/fd.h"

namespace touchpass::ykemu {
namespace {

using nlohmann::json;

std::string hex_of(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4U]);
    out.push_back(kDigits[b & 0x0FU]);
  }
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

template <std::size_t N>
bool parse_hex(const std::string& text, std::array<std::uint8_t, N>& out) {
  if (text.size() != 2 * N) return false;
  for (std::size_t i = 0; i < N; ++i) {
    const int hi = hex_digit(text[2 * i]);
    const int lo = hex_digit(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  return true;
}

json slot_to_json(const SlotState& slot) {
  return json{{"mode", slot.mode == SlotState::Mode::hmac ? "hmac" : "other"},
              {"key", hex_of(slot.key)},
              {"require_touch", slot.require_touch},
              {"hmac_lt64", slot.hmac_lt64},
              {"access_code", hex_of(slot.access_code)}};
}

bool slot_from_json(const json& j, SlotState& slot, std::string* error) {
  if (!j.is_object()) {
    *error = "a slot must be an object or null";
    return false;
  }
  const std::string mode = j.value("mode", std::string("hmac"));
  if (mode == "hmac") {
    slot.mode = SlotState::Mode::hmac;
  } else if (mode == "other") {
    slot.mode = SlotState::Mode::other;
  } else {
    *error = "slot mode must be \"hmac\" or \"other\"";
    return false;
  }
  if (!parse_hex(j.value("key", std::string(40, '0')), slot.key)) {
    *error = "slot key must be 40 hexadecimal digits";
    return false;
  }
  if (!parse_hex(j.value("access_code", std::string(12, '0')), slot.access_code)) {
    *error = "slot access_code must be 12 hexadecimal digits";
    return false;
  }
  slot.require_touch = j.value("require_touch", false);
  slot.hmac_lt64 = j.value("hmac_lt64", false);
  return true;
}

}  // namespace

std::string to_json(const EmulatorState& state) {
  json slots = json::object();
  for (std::size_t i = 0; i < state.slots.size(); ++i) {
    slots[std::to_string(i + 1)] = state.slots[i] ? slot_to_json(*state.slots[i]) : json(nullptr);
  }
  json j{{"present", state.present},
         {"serial", state.serial},
         {"serial_visible", state.serial_visible},
         {"firmware", std::to_string(state.firmware[0]) + "." + std::to_string(state.firmware[1]) +
                          "." + std::to_string(state.firmware[2])},
         {"programming_sequence", state.programming_sequence},
         {"slots", slots},
         {"touch", state.touch == TouchMode::never ? "never" : "auto"},
         {"touch_delay_ms", state.touch_delay_ms},
         {"touch_timeout_s", state.touch_timeout_s},
         {"remove_after_transfers",
          state.remove_after_transfers ? json(*state.remove_after_transfers) : json(nullptr)},
         {"corrupt_response_crc", state.corrupt_response_crc},
         {"deny_access", state.deny_access}};
  return j.dump(2) + "\n";
}

std::optional<EmulatorState> from_json(std::string_view text, std::string* error) {
  std::string ignored;
  if (error == nullptr) error = &ignored;
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    *error = "the state is not a JSON object";
    return std::nullopt;
  }
  try {
    EmulatorState state;
    state.present = j.value("present", state.present);
    state.serial = j.value("serial", state.serial);
    state.serial_visible = j.value("serial_visible", state.serial_visible);
    const std::string firmware = j.value("firmware", std::string("5.4.3"));
    unsigned major = 0;
    unsigned minor = 0;
    unsigned build = 0;
    char tail = 0;
    if (std::sscanf(firmware.c_str(), "%u.%u.%u%c", &major, &minor, &build, &tail) != 3 ||
        major > 255 || minor > 255 || build > 255) {
      *error = "firmware must look like \"5.4.3\"";
      return std::nullopt;
    }
    state.firmware = {static_cast<std::uint8_t>(major), static_cast<std::uint8_t>(minor),
                      static_cast<std::uint8_t>(build)};
    state.programming_sequence = j.value("programming_sequence", state.programming_sequence);
    if (const auto slots = j.find("slots"); slots != j.end()) {
      if (!slots->is_object()) {
        *error = "slots must be an object with members \"1\" and \"2\"";
        return std::nullopt;
      }
      for (std::size_t i = 0; i < state.slots.size(); ++i) {
        const auto slot = slots->find(std::to_string(i + 1));
        if (slot == slots->end() || slot->is_null()) continue;
        SlotState parsed;
        if (!slot_from_json(*slot, parsed, error)) return std::nullopt;
        state.slots[i] = parsed;
      }
    }
    const std::string touch = j.value("touch", std::string("auto"));
    if (touch == "auto") {
      state.touch = TouchMode::automatic;
    } else if (touch == "never") {
      state.touch = TouchMode::never;
    } else {
      *error = "touch must be \"auto\" or \"never\"";
      return std::nullopt;
    }
    state.touch_delay_ms = j.value("touch_delay_ms", state.touch_delay_ms);
    state.touch_timeout_s = j.value("touch_timeout_s", state.touch_timeout_s);
    if (const auto remove = j.find("remove_after_transfers");
        remove != j.end() && !remove->is_null()) {
      state.remove_after_transfers = remove->get<std::uint32_t>();
    }
    state.corrupt_response_crc = j.value("corrupt_response_crc", state.corrupt_response_crc);
    state.deny_access = j.value("deny_access", state.deny_access);
    return state;
  } catch (const json::exception& e) {
    *error = std::string("a member has the wrong type: ") + e.what();
    return std::nullopt;
  }
}

std::optional<EmulatorState> load_state(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (error != nullptr) *error = "cannot read " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return from_json(text.str(), error);
}

bool save_state(const std::string& path, const EmulatorState& state, std::string* error) {
  const std::string text = to_json(state);
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    if (error != nullptr) *error = "cannot create " + temporary + ": " + std::strerror(errno);
    return false;
  }
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd.get(), text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  const bool ok = written == text.size() && ::fsync(fd.get()) == 0;
  fd.reset();
  if (!ok || ::rename(temporary.c_str(), path.c_str()) != 0) {
    if (error != nullptr) *error = "cannot write " + path + ": " + std::strerror(errno);
    ::unlink(temporary.c_str());
    return false;
  }
  return true;
}

}  // namespace touchpass::ykemu
