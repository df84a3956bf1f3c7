// libtouchpass-ykemu: an emulated YubiKey 5 at the libusb-1.0 boundary, for tests and for
// running touchpassd without hardware (LD_PRELOAD=libtouchpass-ykemu.so). It defines the 16
// libusb-1.0 functions that libykpers-1 imports, so the real libykpers runs its real protocol
// against it (otp_device.h). It is configured by the state file named in TOUCHPASS_YKEMU_STATE
// (state.h).
//
// Besides the libusb functions it exports two counters, so that a program can prove that the
// emulator, and not the real libusb-1.0, served libykpers (look them up with dlsym when the
// emulator was preloaded).
#pragma once

#define TOUCHPASS_YKEMU_EXPORT __attribute__((visibility("default")))

#ifdef __cplusplus
extern "C" {
#endif

// How many libusb-1.0 calls the emulator has served in this process.
TOUCHPASS_YKEMU_EXPORT unsigned long long touchpass_ykemu_call_count(void);
// How many control transfers (8-byte feature reports either way) it has served.
TOUCHPASS_YKEMU_EXPORT unsigned long long touchpass_ykemu_transfer_count(void);

#ifdef __cplusplus
}
#endif
