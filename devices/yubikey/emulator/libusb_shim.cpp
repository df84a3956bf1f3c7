// The libusb-1.0 functions that libykpers-1 imports (`nm -D libykpers-1.so.1 | grep libusb`),
// implemented over one emulated YubiKey 5 (VID 0x1050, PID 0x0407) so that the real libykpers
// runs its real protocol against OtpDevice. Whoever defines these symbols first in the
// process's lookup order wins: the executable itself (object form linked in), a shared library
// linked before libykpers (and so before its libusb-1.0 dependency), or LD_PRELOAD.
//
// What it enforces, as the real stack would:
// - control transfers only on an open handle whose interface 0 is claimed; only the HID class
//   requests SET_REPORT (0x21, 0x09) and GET_REPORT (0xA1, 0x01) of feature report 0
//   (wValue 0x0300, wIndex 0) with exactly 8 bytes; anything else stalls (LIBUSB_ERROR_PIPE);
// - a key that is absent is not listed; one removed (state.remove_after_transfers) fails every
//   later call on its handles with LIBUSB_ERROR_NO_DEVICE and disappears from the list;
// - the kernel's HID driver owns interface 0 until it is detached (claiming it before fails with
//   LIBUSB_ERROR_BUSY), and is re-attached when libykpers closes the key;
// - deny_access makes libusb_open fail with LIBUSB_ERROR_ACCESS (missing udev permission).
//
// Every entry point holds one mutex and never throws. Set TOUCHPASS_YKEMU_TRACE=1 to log every
// call to stderr.
#include <libusb.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "devices/yubikey/emulator/otp_device.h"
#include "devices/yubikey/emulator/ykemu.h"

struct libusb_context {
  int unused = 0;
};
struct libusb_device {
  int unused = 0;
};
struct libusb_device_handle {
  libusb_device* device = nullptr;
  bool claimed = false;
  std::uint64_t generation = 0;  // the plug-in this handle was opened on
};

namespace touchpass::ykemu {
namespace {

constexpr std::uint16_t kYubicoVid = 0x1050;
constexpr std::uint16_t kYubiKey5Pid = 0x0407;  // OTP + FIDO + CCID

struct FileIdentity {
  bool exists = false;
  dev_t device = 0;
  ino_t inode = 0;
  timespec modified{};
  off_t size = 0;

  bool operator==(const FileIdentity& o) const {
    return exists == o.exists && device == o.device && inode == o.inode &&
           modified.tv_sec == o.modified.tv_sec && modified.tv_nsec == o.modified.tv_nsec &&
           size == o.size;
  }
};

FileIdentity identify(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return FileIdentity{true, st.st_dev, st.st_ino, st.st_mtim, st.st_size};
}

class Emulator {
 public:
  Emulator() : device_(&state_, [this](const EmulatorState& s) { persist(s); }) {
    if (const char* path = std::getenv("TOUCHPASS_YKEMU_STATE"); path != nullptr && *path) {
      path_ = path;
    }
    trace_ = std::getenv("TOUCHPASS_YKEMU_TRACE") != nullptr;
  }

  std::mutex mutex;
  std::atomic<std::uint64_t> calls{0};
  std::uint64_t transfers = 0;

  void trace(const char* what, int result) const {
    if (trace_) std::fprintf(stderr, "ykemu: %s -> %d\n", what, result);
  }

  // Re-reads the state file if it changed since it was last read or written here. A file that
  // cannot be parsed is reported once and the previous state is kept.
  void refresh() {
    if (path_.empty()) return;
    const FileIdentity now = identify(path_);
    if (loaded_ && now == identity_) return;
    identity_ = now;
    loaded_ = true;
    if (!now.exists) return;  // a fresh key: the file is created when it is first programmed
    std::string error;
    if (auto state = load_state(path_, &error)) {
      state_ = *state;
      transfers_since_load_ = 0;
      if (removed_) {  // the file changed: the key is plugged in again
        removed_ = false;
        ++generation_;
        device_.reset();
      }
    } else {
      std::fprintf(stderr, "ykemu: ignoring the state file: %s\n", error.c_str());
    }
  }

  bool plugged_in() const { return state_.present && !removed_; }
  bool handle_alive(const libusb_device_handle* h) const {
    return plugged_in() && h != nullptr && h->generation == generation_;
  }
  std::uint64_t generation() const { return generation_; }
  const EmulatorState& state() const { return state_; }
  libusb_device* device_node() { return &node_; }
  bool driver_attached = true;

  // One control transfer's bookkeeping: false when the key is pulled out by this transfer.
  bool count_transfer() {
    ++transfers;
    ++transfers_since_load_;
    if (state_.remove_after_transfers && transfers_since_load_ > *state_.remove_after_transfers) {
      removed_ = true;
      device_.reset();
      return false;
    }
    return true;
  }

  OtpDevice& otp() { return device_; }

 private:
  void persist(const EmulatorState& s) {
    if (path_.empty()) return;
    std::string error;
    if (!save_state(path_, s, &error)) {
      std::fprintf(stderr, "ykemu: cannot save the state: %s\n", error.c_str());
      return;
    }
    identity_ = identify(path_);
  }

  std::string path_;
  bool trace_ = false;
  bool loaded_ = false;
  FileIdentity identity_;
  EmulatorState state_;
  OtpDevice device_;
  libusb_device node_;
  bool removed_ = false;
  std::uint64_t generation_ = 1;
  std::uint64_t transfers_since_load_ = 0;
};

Emulator& emulator() {
  static Emulator* instance = new Emulator();  // never destroyed: used until the process ends
  return *instance;
}

// Runs `body` under the emulator's mutex, counting the call; never lets an exception out.
template <class Body>
int guarded(const char* name, Body&& body) {
  Emulator& e = emulator();
  e.calls.fetch_add(1, std::memory_order_relaxed);
  int result = LIBUSB_ERROR_OTHER;
  try {
    std::lock_guard lock(e.mutex);
    e.refresh();
    result = body(e);
  } catch (...) {
    result = LIBUSB_ERROR_NO_MEM;
  }
  e.trace(name, result);
  return result;
}

}  // namespace
}  // namespace touchpass::ykemu

using touchpass::ykemu::Emulator;
using touchpass::ykemu::guarded;

extern "C" {

TOUCHPASS_YKEMU_EXPORT int LIBUSB_CALL libusb_init(libusb_context** ctx) {
  return guarded("libusb_init", [&](Emulator&) -> int {
    if (ctx != nullptr) *ctx = new libusb_context();
    return LIBUSB_SUCCESS;
  });
}

TOUCHPASS_YKEMU_EXPORT void LIBUSB_CALL libusb_exit(libusb_context* ctx) {
  guarded("libusb_exit", [&](Emulator&) -> int {
    delete ctx;
    return LIBUSB_SUCCESS;
  });
}

TOUCHPASS_YKEMU_EXPORT ssize_t LIBUSB_CALL libusb_get_device_list(libusb_context*,
                                                                  libusb_device*** list) {
  return guarded("libusb_get_device_list", [&](Emulator& e) -> int {
    if (list == nullptr) return LIBUSB_ERROR_INVALID_PARAM;
    auto** devices = static_cast<libusb_device**>(std::calloc(2, sizeof(libusb_device*)));
    if (devices == nullptr) return LIBUSB_ERROR_NO_MEM;
    int count = 0;
    if (e.plugged_in()) devices[count++] = e.device_node();
    *list = devices;
    return count;
  });
}

TOUCHPASS_YKEMU_EXPORT void LIBUSB_CALL libusb_free_device_list(libusb_device** list, int) {
  guarded("libusb_free_device_list", [&](Emulator&) -> int {
    std::free(list);
    return LIBUSB_SUCCESS;
  });
}

TOUCHPASS_YKEMU_EXPORT int LIBUSB_CALL
libusb_get_device_descriptor(libusb_device* dev, libusb_device_descriptor* desc) {
  return guarded("libusb_get_device_descriptor", [&](Emulator& e) -> int {
    if (dev != e.device_node() || desc == nullptr) return LIBUSB_ERROR_INVALID_PARAM;
    std::memset(desc, 0, sizeof(*desc));
    desc->bLength = LIBUSB_DT_DEVICE_SIZE;
    desc->bDescriptorType = LIBUSB_DT_DEVICE;
    desc->bcdUSB = 0x0200;
    desc->bMaxPacketSize0 = 64;
    desc->idVendor = touchpass::ykemu::kYubicoVid;
    desc->idProduct = touchpass::ykemu::kYubiKey5Pid;
    const auto& fw = e.state().firmware;
    desc->bcdDevice = static_cast<std::uint16_t>((fw[0] << 8U) | (fw[1] << 4U) | fw[2]);
    desc->iManufacturer = 1;
    desc->iProduct = 2;
    desc->bNumConfigurations = 1;
    return LIBUSB_SUCCESS;
  });
}

TOUCHPASS_YKEMU_EXPORT int LIBUSB_CALL libusb_open(libusb_device* dev,
                                                   libusb_device_handle** handle) {
  return guarded("libusb_open", [&](Emulator& e) -> int {
    if (dev != e.device_node() || handle == nullptr) return LIBUSB_ERROR_INVALID_PARAM;
    if (!e.plugged_in()) return LIBUSB_ERROR_NO_DEVICE;
    if (e.state().deny_access) return LIBUSB_ERROR_ACCESS;
    *handle = new libusb_device_handle{dev, false, e.generation()};
    return LIBUSB_SUCCESS;
  });
}

TOUCHPASS_YKEMU_EXPORT void LIBUSB_CALL libusb_close(libusb_device_handle* handle) {
  guarded("libusb_close", [&](Emulator&) -> int {
    delete handle;
    return LIBUSB_SUCCESS;
  });
}

TOUCHPASS_YKEMU_EXPORT libusb_device* LIBUSB_CALL libusb_get_device(libusb_device_handle* handle) {
  libusb_device* result = nullptr;
  guarded("libusb_get_device", [&](Emulator&) -> int {
    result = handle != nullptr ? handle->device : nullptr;
    return LIBUSB_SUCCESS;
  });
  return result;
}

TOUCHPASS_YKEMU_EXPORT int LIBUSB_CALL libusb_get_configuration(libusb_device_handle* handle,
                                                                int* config) {
  return guarded("libusb_get_configuration", [&](Emulator& e) -> int {
    if (!e.handle_alive(handle)) return LIBUSB_ERROR_NO_DEVICE;
    if (config != nullptr) *config = 1;
    return LIBUSB_SUCCESS;
  });
}

TOUCHPASS_YKEMU_EXPORT int LIBUSB_CALL libusb_set_configuration(libusb_device_handle* handle,
                                                                int config) {
  return guarded("libusb_set_configuration", [&](Emulator& e) -> int {
    if (!e.handle_alive(handle)) return LIBUSB_ERROR_NO_DEVICE;
    return config == 1 ? LIBUSB_SUCCESS : LIBUSB_ERROR_NOT_FOUND;
  });
}

TOUCHPASS_YKEMU_EXPORT int LIBUSB_CALL libusb_claim_interface(libusb_device_handle* handle,
                                                              int interface_number) {
  return guarded("libusb_claim_interface", [&](Emulator& e) -> int {
    if (!e.handle_alive(handle)) return LIBUSB_ERROR_NO_DEVICE;
    if (interface_number != 0) return LIBUSB_ERROR_NOT_FOUND;
    if (e.driver_attached) return LIBUSB_ERROR_BUSY;  // usbhid still owns the interface
    handle->claimed = true;
    return LIBUSB_SUCCESS;
  });
}

TOUCHPASS_YKEMU_EXPORT int LIBUSB_CALL libusb_release_interface(libusb_device_handle* handle,
                                                                int interface_number) {
  return guarded("libusb_release_interface", [&](Emulator& e) -> int {
    if (handle == nullptr || interface_number != 0 || !handle->claimed)
      return LIBUSB_ERROR_NOT_FOUND;
    handle->claimed = false;
    return e.handle_alive(handle) ? LIBUSB_SUCCESS : LIBUSB_ERROR_NO_DEVICE;
  });
}

TOUCHPASS_YKEMU_EXPORT int LIBUSB_CALL libusb_kernel_driver_active(libusb_device_handle* handle,
                                                                   int interface_number) {
  return guarded("libusb_kernel_driver_active", [&](Emulator& e) -> int {
    if (!e.handle_alive(handle)) return LIBUSB_ERROR_NO_DEVICE;
    if (interface_number != 0) return LIBUSB_ERROR_NOT_FOUND;
    return e.driver_attached ? 1 : 0;
  });
}

TOUCHPASS_YKEMU_EXPORT int LIBUSB_CALL libusb_detach_kernel_driver(libusb_device_handle* handle,
                                                                   int interface_number) {
  return guarded("libusb_detach_kernel_driver", [&](Emulator& e) -> int {
    if (!e.handle_alive(handle)) return LIBUSB_ERROR_NO_DEVICE;
    if (interface_number != 0 || !e.driver_attached) return LIBUSB_ERROR_NOT_FOUND;
    e.driver_attached = false;
    return LIBUSB_SUCCESS;
  });
}

TOUCHPASS_YKEMU_EXPORT int LIBUSB_CALL libusb_attach_kernel_driver(libusb_device_handle* handle,
                                                                   int interface_number) {
  return guarded("libusb_attach_kernel_driver", [&](Emulator& e) -> int {
    if (!e.handle_alive(handle)) return LIBUSB_ERROR_NO_DEVICE;
    if (interface_number != 0) return LIBUSB_ERROR_NOT_FOUND;
    if (e.driver_attached) return LIBUSB_ERROR_BUSY;
    e.driver_attached = true;
    return LIBUSB_SUCCESS;
  });
}

TOUCHPASS_YKEMU_EXPORT int LIBUSB_CALL
libusb_control_transfer(libusb_device_handle* handle, std::uint8_t request_type,
                        std::uint8_t request, std::uint16_t value, std::uint16_t index,
                        unsigned char* data, std::uint16_t length, unsigned int /*timeout*/) {
  return guarded("libusb_control_transfer", [&](Emulator& e) -> int {
    if (!e.handle_alive(handle)) return LIBUSB_ERROR_NO_DEVICE;
    if (!handle->claimed) return LIBUSB_ERROR_BUSY;
    if (!e.count_transfer()) return LIBUSB_ERROR_NO_DEVICE;
    constexpr std::uint8_t kSetReport = 0x09;
    constexpr std::uint8_t kGetReport = 0x01;
    constexpr std::uint16_t kFeatureReport0 = 0x0300;
    constexpr std::uint8_t kClassInterfaceOut = 0x21;  // host to device, class, interface
    constexpr std::uint8_t kClassInterfaceIn = 0xA1;   // device to host, class, interface
    const bool out = request_type == kClassInterfaceOut && request == kSetReport;
    const bool in = request_type == kClassInterfaceIn && request == kGetReport;
    if ((!out && !in) || value != kFeatureReport0 || index != 0 ||
        length != touchpass::ykemu::kReportBytes || data == nullptr) {
      return LIBUSB_ERROR_PIPE;
    }
    const auto now = touchpass::ykemu::OtpDevice::Clock::now();
    if (out) {
      touchpass::ykemu::Report report{};
      std::memcpy(report.data(), data, report.size());
      e.otp().set_report(report, now);
    } else {
      const touchpass::ykemu::Report report = e.otp().get_report(now);
      std::memcpy(data, report.data(), report.size());
    }
    return static_cast<int>(touchpass::ykemu::kReportBytes);
  });
}

TOUCHPASS_YKEMU_EXPORT unsigned long long touchpass_ykemu_call_count(void) {
  return touchpass::ykemu::emulator().calls.load(std::memory_order_relaxed);
}

TOUCHPASS_YKEMU_EXPORT unsigned long long touchpass_ykemu_transfer_count(void) {
  Emulator& e = touchpass::ykemu::emulator();
  std::lock_guard lock(e.mutex);
  return e.transfers;
}

}  // extern "C"
