// Translation of libykpers results (yk_errno, ykp_errno and the libusb error behind
// YK_EUSBERR) into touchpass errors: a stable code and one sentence a person can act on. This is
// the only place that knows libykpers' error codes.
#pragma once

#include <string_view>

#include "core/status.h"
#include "devices/token.h"
#include "devices/yubikey/libykpers.h"

namespace touchpass::devices::yubikey {

struct FailureContext {
  // The call waited for a touch: a timeout then means nobody touched the key.
  bool presence_expected = false;
};

// The touchpass error for a failed libykpers call:
//   YK_EUSBERR with libusb's "no such device" -> token_removed; "access denied" -> io_error
//     (udev rules); "resource busy" -> io_error (another program); other USB errors -> io_error
//   YK_ENOKEY -> token_removed (the key was there when the token was opened)
//   YK_ETIMEOUT, YK_EWOULDBLOCK -> presence_timeout if a touch was expected, else token_error
//   YK_ECHECKSUM, YK_EWRONGSIZ, YK_ENODATA -> malformed_reply
//   YK_EWRITEERR -> token_error (configuration not accepted; access code?)
//   YK_EFIRMWARE, YKP_EYUBIKEYVER, YKP_EOLDYUBIKEY -> capability_missing
//   YK_ENOMEM, YKP_EINVAL and other misuse -> internal; anything else -> token_error
Error translate_failure(const LibraryFailure& failure, const FailureContext& context = {});

// The error of Discovery::open and of enumerate when libykpers cannot open a key: as
// translate_failure, except that YK_ENOKEY is no_token.
Error translate_open_failure(const LibraryFailure& failure);

// token_removed: the key went away during (or before) the operation.
Error key_removed();

// not_found: `slot` holds no configuration at all.
Error slot_not_programmed(OtpSlot slot);

// malformed_reply naming `detail` (e.g. "response CRC").
Error malformed_reply(std::string_view detail);

// presence_timeout: nobody touched the key in time.
Error touch_timeout();

}  // namespace touchpass::devices::yubikey
