#include "devices/yubikey/libykpers.h"

#include <openssl/crypto.h>

namespace touchpass::devices::yubikey {

static_assert(sizeof(struct config_st) == 52, "ykdef.h's configuration layout changed");

Result<std::unique_lock<std::mutex>> lock_libykpers() {
  static std::mutex mutex;
  static bool initialized = false;
  std::unique_lock lock(mutex);
  if (!initialized) {
    if (yk_init() == 0) {
      return Error(Code::io_error,
                   "Cannot use USB to reach YubiKeys (libusb could not be initialised). Check "
                   "that /dev/bus/usb is available to touchpassd.");
    }
    initialized = true;
  }
  return lock;
}

void ConfigDeleter::operator()(YKP_CONFIG* config) const {
  if (YK_CONFIG* core = ykp_core_config(config); core != nullptr) {
    OPENSSL_cleanse(core, sizeof(struct config_st));
  }
  ykp_free_config(config);
}

LibraryFailure capture_failure() {
  LibraryFailure failure;
  failure.yk_error = yk_errno;
  failure.ykp_error = ykp_errno;
  if (const char* text = yk_usb_strerror(); text != nullptr) failure.usb_error = text;
  return failure;
}

}  // namespace touchpass::devices::yubikey
