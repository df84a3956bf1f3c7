// A hostile YubiKey answering the libykpers backend (devices/yubikey): the harness defines the
// libusb-1.0 functions libykpers imports — the boundary the emulator (devices/yubikey/emulator)
// uses, so the real libykpers-1 runs its real protocol — and every feature report the "key"
// returns (GET_REPORT) is the next 8 bytes of the fuzz input. So the real YubiKeyToken and the
// real libykpers reassemble whatever a key could answer: status reports, write acknowledgements,
// the serial's response chunks (libykpers' yk_read_response_from_key) and the challenge-response
// chunks, touch waits and CRCs (YubiKeyToken::challenge_response).
//
// Input: one byte choosing the operation (bits 0-2: otp_status, challenge_response slot 1 or 2,
// program_challenge_response slot 1 or 2, discovery; bit 3: open the key by serial instead of
// by index), then the reports. When they run out the key is pulled out: every later USB call
// fails with LIBUSB_ERROR_NO_DEVICE and the key is no longer listed.
//
// Time: libykpers polls the key with usleep() between reads and counts the time it slept
// rather than measuring it; this program's usleep() returns at once (it replaces libc's for the
// whole process), so polling costs nothing and runs are deterministic. Challenge-responses are
// given a timeout of 0 ms: the first touch-wait report ends the wait, without sleeping.
//
// The seeds are recordings: the same operations against the emulator's OtpDevice (a
// well-behaved key with slot 1 touch-triggered and slot 2 programmed), its answers written down.
#include <libusb.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "core/status.h"
#include "devices/yubikey/discovery.h"
#include "devices/yubikey/emulator/otp_device.h"
#include "devices/yubikey/yubikey_token.h"
#include "fuzz.h"

struct libusb_context {
  int unused = 0;
};
struct libusb_device {
  int unused = 0;
};
struct libusb_device_handle {
  bool claimed = false;
};

namespace {

using namespace std::chrono_literals;
namespace devices = touchpass::devices;
namespace yubikey = touchpass::devices::yubikey;
namespace ykemu = touchpass::ykemu;

constexpr std::size_t kReportBytes = 8;
constexpr std::uint16_t kYubicoVid = 0x1050;
constexpr std::uint16_t kYubiKey5Pid = 0x0407;

// The key behind the libusb functions: the fuzz input's reports, or (while seeds are recorded)
// the emulator's OtpDevice, whose answers are written down.
struct Key {
  std::span<const std::uint8_t> reports;  // what is left of the input
  ykemu::OtpDevice* recorder = nullptr;
  std::string* recording = nullptr;
  libusb_device node;

  bool present() const { return recorder != nullptr || !reports.empty(); }

  // The answer to one GET_REPORT; false when the key has been pulled out.
  bool get_report(unsigned char* out) {
    if (recorder != nullptr) {
      const ykemu::Report r = recorder->get_report(ykemu::OtpDevice::Clock::now());
      std::memcpy(out, r.data(), r.size());
      recording->append(r.begin(), r.end());
      return true;
    }
    if (reports.empty()) return false;
    std::memset(out, 0, kReportBytes);
    const std::size_t n = std::min(kReportBytes, reports.size());
    std::memcpy(out, reports.data(), n);
    reports = reports.subspan(n);
    return true;
  }

  void set_report(const unsigned char* in) {
    if (recorder == nullptr) return;  // a hostile key takes every write
    ykemu::Report r{};
    std::memcpy(r.data(), in, r.size());
    recorder->set_report(r, ykemu::OtpDevice::Clock::now());
  }
};

Key& key() {
  static Key k;
  return k;
}

}  // namespace

// --- libusb-1.0, as libykpers uses it (the emulator's libusb_shim.cpp is the reference).

extern "C" {

int LIBUSB_CALL libusb_init(libusb_context** ctx) {
  if (ctx != nullptr) *ctx = new libusb_context();  // libykpers keeps it for the process
  return LIBUSB_SUCCESS;
}

void LIBUSB_CALL libusb_exit(libusb_context* ctx) {
  delete ctx;
}

ssize_t LIBUSB_CALL libusb_get_device_list(libusb_context*, libusb_device*** list) {
  if (list == nullptr) return LIBUSB_ERROR_INVALID_PARAM;
  auto** devices = static_cast<libusb_device**>(std::calloc(2, sizeof(libusb_device*)));
  if (devices == nullptr) return LIBUSB_ERROR_NO_MEM;
  ssize_t count = 0;
  if (key().present()) devices[count++] = &key().node;
  *list = devices;
  return count;
}

void LIBUSB_CALL libusb_free_device_list(libusb_device** list, int) {
  std::free(list);
}

int LIBUSB_CALL libusb_get_device_descriptor(libusb_device* dev, libusb_device_descriptor* desc) {
  if (dev != &key().node || desc == nullptr) return LIBUSB_ERROR_INVALID_PARAM;
  std::memset(desc, 0, sizeof(*desc));
  desc->bLength = LIBUSB_DT_DEVICE_SIZE;
  desc->bDescriptorType = LIBUSB_DT_DEVICE;
  desc->bcdUSB = 0x0200;
  desc->idVendor = kYubicoVid;
  desc->idProduct = kYubiKey5Pid;
  desc->bcdDevice = 0x0543;
  desc->bNumConfigurations = 1;
  return LIBUSB_SUCCESS;
}

int LIBUSB_CALL libusb_open(libusb_device* dev, libusb_device_handle** handle) {
  if (dev != &key().node || handle == nullptr) return LIBUSB_ERROR_INVALID_PARAM;
  if (!key().present()) return LIBUSB_ERROR_NO_DEVICE;
  *handle = new libusb_device_handle();
  return LIBUSB_SUCCESS;
}

void LIBUSB_CALL libusb_close(libusb_device_handle* handle) {
  delete handle;
}

libusb_device* LIBUSB_CALL libusb_get_device(libusb_device_handle*) {
  return &key().node;
}

int LIBUSB_CALL libusb_get_configuration(libusb_device_handle*, int* config) {
  if (!key().present()) return LIBUSB_ERROR_NO_DEVICE;
  if (config != nullptr) *config = 1;
  return LIBUSB_SUCCESS;
}

int LIBUSB_CALL libusb_set_configuration(libusb_device_handle*, int config) {
  if (!key().present()) return LIBUSB_ERROR_NO_DEVICE;
  return config == 1 ? LIBUSB_SUCCESS : LIBUSB_ERROR_NOT_FOUND;
}

int LIBUSB_CALL libusb_claim_interface(libusb_device_handle* handle, int interface_number) {
  if (!key().present()) return LIBUSB_ERROR_NO_DEVICE;
  if (handle == nullptr || interface_number != 0) return LIBUSB_ERROR_NOT_FOUND;
  handle->claimed = true;
  return LIBUSB_SUCCESS;
}

int LIBUSB_CALL libusb_release_interface(libusb_device_handle* handle, int interface_number) {
  if (handle == nullptr || interface_number != 0 || !handle->claimed) return LIBUSB_ERROR_NOT_FOUND;
  handle->claimed = false;
  return LIBUSB_SUCCESS;
}

int LIBUSB_CALL libusb_kernel_driver_active(libusb_device_handle*, int) {
  return key().present() ? 0 : LIBUSB_ERROR_NO_DEVICE;
}

int LIBUSB_CALL libusb_detach_kernel_driver(libusb_device_handle*, int) {
  return LIBUSB_ERROR_NOT_FOUND;
}

int LIBUSB_CALL libusb_attach_kernel_driver(libusb_device_handle*, int) {
  return LIBUSB_ERROR_NOT_FOUND;
}

int LIBUSB_CALL libusb_control_transfer(libusb_device_handle* handle, std::uint8_t request_type,
                                        std::uint8_t request, std::uint16_t value,
                                        std::uint16_t index, unsigned char* data,
                                        std::uint16_t length, unsigned int) {
  if (handle == nullptr || !handle->claimed) return LIBUSB_ERROR_BUSY;
  constexpr std::uint8_t kSetReport = 0x09;
  constexpr std::uint8_t kGetReport = 0x01;
  const bool out = request_type == 0x21 && request == kSetReport;
  const bool in = request_type == 0xA1 && request == kGetReport;
  if ((!out && !in) || value != 0x0300 || index != 0 || length != kReportBytes || data == nullptr) {
    return LIBUSB_ERROR_PIPE;
  }
  if (!key().present()) return LIBUSB_ERROR_NO_DEVICE;
  if (out) {
    key().set_report(data);
  } else if (!key().get_report(data)) {
    return LIBUSB_ERROR_NO_DEVICE;
  }
  return static_cast<int>(kReportBytes);
}

// libykpers' polling pause, made free (see the file comment).
int usleep(useconds_t) {
  return 0;
}

}  // extern "C"

namespace {

enum class Operation {
  status,
  challenge_slot1,
  challenge_slot2,
  program_slot1,
  program_slot2,
  discovery,
  count
};

constexpr std::uint8_t kBySerial = 0x08;

void require(bool condition) {
  if (!condition) std::abort();
}

// Runs the operation that `selector` names against whatever key() is.
void run(std::uint8_t selector) {
  const auto op = static_cast<Operation>((selector & 7U) % static_cast<unsigned>(Operation::count));
  if (op == Operation::discovery) {
    (void)yubikey::YubiKeyDiscovery().enumerate();
    return;
  }
  devices::TokenInfo info;
  info.transport = devices::Transport::yubikey_otp;
  info.path = (selector & kBySerial) != 0 ? "yubikey-otp:12345678" : "yubikey-otp:index:0";
  auto token = yubikey::YubiKeyToken::open(info);
  if (!token.ok()) return;
  switch (op) {
    case Operation::status:
      (void)(*token)->otp_status();
      break;
    case Operation::challenge_slot1:
    case Operation::challenge_slot2: {
      std::array<std::uint8_t, 64> challenge{};
      challenge.fill(0xc4);
      int prompts = 0;
      auto response = (*token)->challenge_response(
          op == Operation::challenge_slot1 ? devices::OtpSlot::one : devices::OtpSlot::two,
          challenge, 0ms, [&prompts] { ++prompts; });
      require(prompts <= 1);  // the touch prompt is shown once
      if (response.ok()) require(response->size() == devices::kOtpResponseBytes);
      break;
    }
    case Operation::program_slot1:
      (void)(*token)->program_challenge_response(devices::OtpSlot::one, true, false);
      break;
    case Operation::program_slot2:
      (void)(*token)->program_challenge_response(devices::OtpSlot::two, false, true);
      break;
    case Operation::discovery:
    case Operation::count:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  key().reports = {data + 1, size - 1};
  run(data[0]);
  key().reports = {};
  return 0;
}

namespace {

// The reports a well-behaved key (the emulator) gives for `selector`, after the selector.
std::string record(std::uint8_t selector, const ykemu::EmulatorState& initial) {
  ykemu::EmulatorState state = initial;
  ykemu::OtpDevice device(&state, [](const ykemu::EmulatorState&) {});
  std::string recording(1, static_cast<char>(selector));
  key().recorder = &device;
  key().recording = &recording;
  run(selector);
  key().recorder = nullptr;
  key().recording = nullptr;
  return recording;
}

}  // namespace

std::vector<std::string> fuzz_seeds() {
  ykemu::EmulatorState state;  // serial 12345678, firmware 5.4.3
  ykemu::SlotState touch;
  touch.key.fill(0x31);
  touch.require_touch = true;
  ykemu::SlotState plain;
  plain.key.fill(0x32);
  state.slots = {touch, plain};
  state.touch = ykemu::TouchMode::never;
  ykemu::EmulatorState unprogrammed;
  ykemu::EmulatorState corrupt = state;
  corrupt.corrupt_response_crc = true;
  ykemu::EmulatorState hidden = state;
  hidden.serial_visible = false;

  std::vector<std::string> seeds;
  for (std::uint8_t op = 0; op < static_cast<std::uint8_t>(Operation::count); ++op) {
    seeds.push_back(record(op, state));
    seeds.push_back(record(op | kBySerial, state));
  }
  seeds.push_back(record(static_cast<std::uint8_t>(Operation::program_slot1), unprogrammed));
  seeds.push_back(record(static_cast<std::uint8_t>(Operation::program_slot2), unprogrammed));
  seeds.push_back(record(static_cast<std::uint8_t>(Operation::challenge_slot2), corrupt));
  seeds.push_back(record(static_cast<std::uint8_t>(Operation::status), hidden));
  return seeds;
}

// Enough reports for the longest conversation (programming a slot with the serial looked up
// takes about 70) many times over: 512 reports and the selector.
std::size_t fuzz_max_len() {
  return 1 + 512 * kReportBytes;
}
