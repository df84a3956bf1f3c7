#include "core/status.h"

namespace touchpass {

std::string_view code_name(Code code) {
  switch (code) {
    case Code::ok:
      return "ok";
    case Code::pin_invalid:
      return "pin_invalid";
    case Code::pin_blocked:
      return "pin_blocked";
    case Code::pin_auth_blocked:
      return "pin_auth_blocked";
    case Code::pin_required:
      return "pin_required";
    case Code::pin_not_set:
      return "pin_not_set";
    case Code::pin_policy:
      return "pin_policy";
    case Code::token_removed:
      return "token_removed";
    case Code::no_token:
      return "no_token";
    case Code::no_credentials:
      return "no_credentials";
    case Code::presence_denied:
      return "presence_denied";
    case Code::presence_timeout:
      return "presence_timeout";
    case Code::cancelled:
      return "cancelled";
    case Code::capability_missing:
      return "capability_missing";
    case Code::malformed_reply:
      return "malformed_reply";
    case Code::clone_suspected:
      return "clone_suspected";
    case Code::verification_failed:
      return "verification_failed";
    case Code::token_error:
      return "token_error";
    case Code::invalid_argument:
      return "invalid_argument";
    case Code::io_error:
      return "io_error";
    case Code::internal:
      return "internal";
    case Code::not_found:
      return "not_found";
    case Code::permission_denied:
      return "permission_denied";
    case Code::protocol_error:
      return "protocol_error";
    case Code::unsupported_version:
      return "unsupported_version";
    case Code::refused:
      return "refused";
    case Code::busy:
      return "busy";
    case Code::integrity:
      return "integrity";
  }
  return "unknown";
}

}  // namespace touchpass
