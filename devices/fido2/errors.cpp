#include "devices/fido2/errors.h"

#include <fido.h>
#include <fido/err.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace touchpass::devices::fido2 {

std::string library_error_name(int fido_error) {
  const char* name = fido_strerr(fido_error);
  return name != nullptr ? std::string(name) : std::string("unknown error");
}

const std::string_view kMalformedCbor = "its answer is not well-formed CBOR";

Error malformed_reply(std::string_view detail) {
  return Error(Code::malformed_reply,
               "The security key sent a reply that could not be understood (" +
                   std::string(detail) +
                   "). Remove and reinsert it; if this keeps happening, use another key.");
}

Error translate_open_errno(const TokenInfo& info, int open_errno) {
  const std::string& path = info.path;
  if (info.is_virtual()) {
    switch (open_errno) {
      case ENOENT:
      case ECONNREFUSED:
      case ENAMETOOLONG:
        return Error(Code::no_token,
                     "The security key " + path + " is not present. Insert it and try again.");
      case EACCES:
      case EPERM:
        return Error(Code::io_error, "Permission denied opening the virtual token " + path +
                                         ": add yourself to the group that owns its socket "
                                         "(the touchpass group) or change the socket's mode.");
      default:
        break;
    }
  } else {
    switch (open_errno) {
      case ENOENT:
      case ENODEV:
      case ENXIO:
        return Error(Code::no_token,
                     "The security key " + path + " is not present. Insert it and try again.");
      case EACCES:
      case EPERM:
        return Error(
            Code::io_error,
            "Permission denied opening " + path +
                ": install touchpass's udev rules or add yourself to the touchpass group.");
      case EBUSY:
        return Error(Code::io_error, "The security key " + path +
                                         " is in use by another program. Close that program or "
                                         "wait until it is done, then try again.");
      default:
        break;
    }
  }
  return Error(Code::io_error,
               "Cannot open the security key " + path + ": " + std::strerror(open_errno) + ".");
}

std::string wrong_pin_message(std::optional<int> retries_left) {
  if (!retries_left) return "Wrong PIN.";
  if (*retries_left == 1) return "Wrong PIN. 1 try left.";
  return "Wrong PIN. " + std::to_string(*retries_left) + " tries left.";
}

Error translate_fido_error(int fido_error, const FailureContext& context) {
  if (context.removed) {
    return Error(Code::token_removed,
                 "The security key was removed during the operation. Insert it and try again.");
  }
  if (context.malformed_answer) return malformed_reply(kMalformedCbor);
  if (fido_error == FIDO_ERR_KEEPALIVE_CANCEL || context.cancel_requested) {
    return Error(Code::cancelled, "The operation was cancelled.");
  }
  if (context.timed_out) {
    if (context.presence_expected) {
      return Error(Code::presence_timeout,
                   "Nobody touched the security key in time. Try again and touch the key when "
                   "it blinks.");
    }
    return Error(Code::token_error,
                 "The security key did not answer in time. Remove and reinsert it, then try "
                 "again.");
  }

  switch (fido_error) {
    case FIDO_ERR_PIN_INVALID:
      return Error(Code::pin_invalid, wrong_pin_message(context.retries_left),
                   context.retries_left);
    case FIDO_ERR_PIN_BLOCKED:
      return Error(Code::pin_blocked,
                   "The PIN of this security key is blocked; the key must be reset.", 0);
    case FIDO_ERR_PIN_AUTH_BLOCKED:
      return Error(Code::pin_auth_blocked,
                   "Too many wrong PINs in a row: remove and reinsert the security key, then try "
                   "again.");
    case FIDO_ERR_PIN_REQUIRED:
      return Error(Code::pin_required,
                   "This security key needs its PIN for this operation. Enter the PIN and try "
                   "again.");
    case FIDO_ERR_PIN_NOT_SET:
      return Error(Code::pin_not_set, "This security key has no PIN yet. Set a PIN first.");
    case FIDO_ERR_PIN_AUTH_INVALID:
      return Error(Code::token_error,
                   "The security key did not accept the authentication of the request (its PIN "
                   "or hmac-secret session may have ended). Remove and reinsert the key, then try "
                   "again.");
    case FIDO_ERR_PIN_POLICY_VIOLATION:
      return Error(Code::pin_policy,
                   "The security key does not accept this PIN: it is too short, too long or "
                   "otherwise not allowed. Choose another PIN (at least 4 characters).");
    case FIDO_ERR_NO_CREDENTIALS:
    case FIDO_ERR_INVALID_CREDENTIAL:
      return Error(Code::no_credentials,
                   "This security key does not hold the credential: it is probably another key "
                   "than the one you enrolled. Use the enrolled key.");
    case FIDO_ERR_OPERATION_DENIED:
    case FIDO_ERR_UP_REQUIRED:
      return Error(Code::presence_denied,
                   "The security key refused the request (the touch was denied). Try again and "
                   "touch the key to confirm.");
    case FIDO_ERR_USER_ACTION_TIMEOUT:
    case FIDO_ERR_ACTION_TIMEOUT:
      return Error(Code::presence_timeout,
                   "Nobody touched the security key in time. Try again and touch the key when "
                   "it blinks.");
    case FIDO_ERR_UNSUPPORTED_OPTION:
    case FIDO_ERR_UNSUPPORTED_EXTENSION:
    case FIDO_ERR_UNSUPPORTED_ALGORITHM:
    case FIDO_ERR_INVALID_OPTION:
      return Error(Code::capability_missing,
                   "This security key does not support a feature touchpass needs (" +
                       library_error_name(fido_error) + "). Use another key.");
    case FIDO_ERR_INVALID_SIG:
      return Error(Code::verification_failed,
                   "The security key's signature did not verify. Do not use this key.");
    case FIDO_ERR_UV_BLOCKED:
      return Error(Code::pin_required,
                   "The built-in user verification of this security key is blocked. Use the PIN.");
    case FIDO_ERR_INVALID_PARAMETER:
      return Error(Code::token_error,
                   "The security key rejected a parameter of the request, so it probably does "
                   "not support what touchpass asks for. Update the key's firmware or use "
                   "another key.");
    case FIDO_ERR_NOT_ALLOWED:
      return Error(Code::token_error,
                   "The security key does not allow this operation in its current state. Remove "
                   "and reinsert it, then try again.");
    case FIDO_ERR_CHANNEL_BUSY:
      return Error(Code::token_error,
                   "The security key is busy with another request. Wait a moment and try again.");
    // libfido2 1.12 reports any failure of the clientPIN key agreement (sent before every PIN
    // or hmac-secret operation) as FIDO_ERR_INTERNAL, so after a device call it almost always
    // means the token's reply was unusable. Removal and timeouts were told apart above.
    case FIDO_ERR_INTERNAL:
    case FIDO_ERR_TX:
    case FIDO_ERR_RX:
    case FIDO_ERR_RX_NOT_CBOR:
    case FIDO_ERR_RX_INVALID_CBOR:
    case FIDO_ERR_INVALID_PARAM:
    case FIDO_ERR_INVALID_CBOR:
    case FIDO_ERR_CBOR_UNEXPECTED_TYPE:
    case FIDO_ERR_INVALID_LENGTH:
    case FIDO_ERR_INVALID_SEQ:
      return malformed_reply(library_error_name(fido_error));
    case FIDO_ERR_INVALID_ARGUMENT:
      return Error(Code::internal, "Internal error while talking to the security key (" +
                                       library_error_name(fido_error) + ").");
    default:
      return Error(Code::token_error,
                   "The security key reported an error (" + library_error_name(fido_error) + ").");
  }
}

}  // namespace touchpass::devices::fido2
