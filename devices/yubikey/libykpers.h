// Access to libykpers-1 for the YubiKey backend: the process-wide lock, RAII owners of its
// handles, and a snapshot of its error state. Nothing outside devices/yubikey includes this:
// libykpers is deprecated upstream, so it stays behind the token interface (DESIGN.md §4.2).
//
// libykpers is not thread-safe: its libusb context and its record of the last USB error
// (behind yk_usb_strerror) are globals, and two handles of one key must not interleave
// requests (a status read by one steals a response chunk from the other). So every libykpers
// call in this process is made while holding the one lock from lock_libykpers(), and a token
// operation holds it from opening the key to closing it again, touch wait included. The
// backend keeps no key open between operations: libykpers detaches the kernel's HID driver when
// it opens a key and re-attaches it when it closes it, so two open handles would take the
// interface from each other.
#pragma once

// clang-format off
#include <ykcore.h>
#include <ykdef.h>
#include <ykpers.h>
#include <ykstatus.h>
// clang-format on

#include <memory>
#include <mutex>
#include <string>

#include "core/status.h"

namespace touchpass::devices::yubikey {

// Takes the process-wide libykpers lock, after running yk_init() once per process (it creates
// libykpers' libusb context; it is never released). Error io_error when yk_init fails (libusb
// could not be initialised); it is tried again by the next call.
Result<std::unique_lock<std::mutex>> lock_libykpers();

struct KeyDeleter {
  void operator()(YK_KEY* key) const { yk_close_key(key); }
};
struct StatusDeleter {
  void operator()(YK_STATUS* status) const { ykds_free(status); }
};
// Wipes the core configuration (it holds the slot's HMAC key) before freeing it.
struct ConfigDeleter {
  void operator()(YKP_CONFIG* config) const;
};

using KeyPtr = std::unique_ptr<YK_KEY, KeyDeleter>;
using StatusPtr = std::unique_ptr<YK_STATUS, StatusDeleter>;
using ConfigPtr = std::unique_ptr<YKP_CONFIG, ConfigDeleter>;

// libykpers' error state right after a failed call (read under the lock).
struct LibraryFailure {
  int yk_error = 0;       // yk_errno (YK_E*)
  int ykp_error = 0;      // ykp_errno (YKP_E*), for the ykp_* configuration calls
  std::string usb_error;  // yk_usb_strerror(): the last libusb error, as text
};

// Snapshot of the error state. Precondition: the lock is held and a libykpers call just failed.
LibraryFailure capture_failure();

}  // namespace touchpass::devices::yubikey
