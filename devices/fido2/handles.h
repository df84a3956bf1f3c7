// RAII owners for libfido2 handles, and the per-thread libfido2 initialisation.
//
// Every deleter frees exactly what libfido2 allocated; the device deleter closes the device
// (if it is open) before freeing it. libfido2 keeps the state set by fido_init() per thread, so
// every entry point that may run on a new thread calls ensure_libfido2_initialized() first.
#pragma once

#include <fido.h>
#include <fido/es256.h>

#include <memory>

namespace touchpass::devices::fido2 {

// Calls fido_init(FIDO_DISABLE_U2F_FALLBACK) once on the calling thread. Without the flag a
// token whose getInfo fails would silently be treated as a U2F key. Debug logging is enabled by
// libfido2 itself when the environment variable FIDO_DEBUG is set.
inline void ensure_libfido2_initialized() {
  thread_local bool initialized = false;
  if (!initialized) {
    fido_init(FIDO_DISABLE_U2F_FALLBACK);
    initialized = true;
  }
}

struct DeviceDeleter {
  void operator()(fido_dev_t* dev) const {
    // Closing a device that is not open fails harmlessly (FIDO_ERR_INVALID_ARGUMENT).
    fido_dev_close(dev);
    fido_dev_free(&dev);
  }
};
struct CredDeleter {
  void operator()(fido_cred_t* cred) const { fido_cred_free(&cred); }
};
struct AssertDeleter {
  void operator()(fido_assert_t* assert) const { fido_assert_free(&assert); }
};
struct Es256PkDeleter {
  void operator()(es256_pk_t* pk) const { es256_pk_free(&pk); }
};
struct CborInfoDeleter {
  void operator()(fido_cbor_info_t* info) const { fido_cbor_info_free(&info); }
};
struct DevInfoListDeleter {
  std::size_t count = 0;
  void operator()(fido_dev_info_t* list) const { fido_dev_info_free(&list, count); }
};

using DevicePtr = std::unique_ptr<fido_dev_t, DeviceDeleter>;
using CredPtr = std::unique_ptr<fido_cred_t, CredDeleter>;
using AssertPtr = std::unique_ptr<fido_assert_t, AssertDeleter>;
using Es256PkPtr = std::unique_ptr<es256_pk_t, Es256PkDeleter>;
using CborInfoPtr = std::unique_ptr<fido_cbor_info_t, CborInfoDeleter>;
using DevInfoListPtr = std::unique_ptr<fido_dev_info_t, DevInfoListDeleter>;

}  // namespace touchpass::devices::fido2
