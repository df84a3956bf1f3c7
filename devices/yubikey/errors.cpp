#include "devices/yubikey/errors.h"

#include <string>

namespace touchpass::devices::yubikey {
namespace {

bool mentions(const std::string& text, std::string_view what) {
  return text.find(what) != std::string::npos;
}

std::string library_error_name(const LibraryFailure& failure) {
  const char* text = yk_strerror(failure.yk_error);
  std::string name = text != nullptr && *text != '\0' ? text : "libykpers error";
  name += " (" + std::to_string(failure.yk_error) + ")";
  return name;
}

Error usb_failure(const LibraryFailure& failure) {
  const std::string& usb = failure.usb_error;
  if (mentions(usb, "No such device")) return key_removed();
  if (mentions(usb, "Access denied")) {
    return Error(Code::io_error,
                 "Permission denied opening the YubiKey: install touchpass's udev rules (or "
                 "Debian's libyubikey-udev) so that touchpassd may use it, then remove and "
                 "reinsert the key.");
  }
  if (mentions(usb, "Resource busy")) {
    return Error(Code::io_error,
                 "The YubiKey is in use by another program. Close that program or wait until it "
                 "is done, then try again.");
  }
  return Error(Code::io_error, "USB error while talking to the YubiKey (" +
                                   (usb.empty() ? std::string("unknown") : usb) +
                                   "). Remove and reinsert it, then try again.");
}

}  // namespace

Error key_removed() {
  return Error(Code::token_removed,
               "The YubiKey was removed during the operation. Insert it and try again.");
}

Error slot_not_programmed(OtpSlot slot) {
  const std::string n = slot == OtpSlot::one ? "1" : "2";
  return Error(Code::not_found, "Slot " + n +
                                    " of this YubiKey is not programmed for challenge-response; "
                                    "program it with `touchpass enroll --kind yubikey --program`");
}

Error malformed_reply(std::string_view detail) {
  return Error(Code::malformed_reply,
               "The YubiKey sent a reply that could not be understood (" + std::string(detail) +
                   "). Remove and reinsert it; if this keeps happening, use another key.");
}

Error touch_timeout() {
  return Error(Code::presence_timeout,
               "Nobody touched the YubiKey in time. Try again and touch the key when it blinks.");
}

Error translate_failure(const LibraryFailure& failure, const FailureContext& context) {
  switch (failure.yk_error) {
    case YK_EUSBERR:
      return usb_failure(failure);
    case YK_ENOKEY:
      return key_removed();
    case YK_ETIMEOUT:
    case YK_EWOULDBLOCK:
      if (context.presence_expected) return touch_timeout();
      return Error(Code::token_error,
                   "The YubiKey did not answer in time. Remove and reinsert it, then try again.");
    case YK_ECHECKSUM:
      return malformed_reply("checksum mismatch");
    case YK_EWRONGSIZ:
      return malformed_reply("wrong response length");
    case YK_ENODATA:
      return malformed_reply("no data");
    case YK_EWRITEERR:
      return Error(Code::token_error,
                   "The YubiKey did not accept the new configuration (the slot may be protected "
                   "by an access code). Nothing was changed.");
    case YK_EFIRMWARE:
      return Error(Code::capability_missing,
                   "The firmware of this YubiKey is not supported. Use a newer YubiKey.");
    case YK_ENOMEM:
      return Error(Code::internal, "Out of memory while talking to the YubiKey.");
    case YK_EINVALIDCMD:
    case YK_ENOSTATUS:
    case YK_ENOTYETIMPL:
      return Error(Code::internal, "Internal error while talking to the YubiKey (" +
                                       library_error_name(failure) + ").");
    case YK_EMORETHANONE:
      return Error(Code::token_error,
                   "More than one YubiKey is present; remove all but the one to use.");
    default:
      break;
  }
  switch (failure.ykp_error) {
    case YKP_EYUBIKEYVER:
    case YKP_EOLDYUBIKEY:
      return Error(Code::capability_missing,
                   "The firmware of this YubiKey is too old for HMAC-SHA1 challenge-response in "
                   "this slot. Use a YubiKey with firmware 2.2 or later.");
    case YKP_ENOCFG:
    case YKP_EINVCONFNUM:
    case YKP_EINVAL:
    case YKP_ENOTYETIMPL:
      return Error(Code::internal, "Internal error while preparing the YubiKey configuration (" +
                                       std::string(ykp_strerror(failure.ykp_error)) + ").");
    default:
      break;
  }
  return Error(Code::token_error,
               "The YubiKey reported an error (" + library_error_name(failure) + ").");
}

Error translate_open_failure(const LibraryFailure& failure) {
  if (failure.yk_error == YK_ENOKEY) {
    return Error(Code::no_token, "No YubiKey is present. Insert it and try again.");
  }
  if (failure.yk_error == YK_EUSBERR && mentions(failure.usb_error, "No such device")) {
    return Error(Code::no_token, "The YubiKey is no longer present. Insert it and try again.");
  }
  return translate_failure(failure);
}

}  // namespace touchpass::devices::yubikey
