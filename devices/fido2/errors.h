// Translation of libfido2 results (FIDO_ERR_*) into touchpass errors: a stable code and one
// sentence a person can act on. This is the only place that knows libfido2's error codes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "devices/token.h"

namespace touchpass::devices::fido2 {

// What the backend knows about the failed call beyond libfido2's code.
struct FailureContext {
  // The transport noticed that the token went away (virtual: EOF/ECONNRESET/EPIPE on the socket;
  // USB: the device node no longer exists).
  bool removed = false;
  // The call's time budget ran out while waiting for a reply.
  bool timed_out = false;
  // The call was waiting for a touch (makeCredential, getAssertion): a timeout then means
  // nobody touched the token; otherwise it means the token did not answer.
  bool presence_expected = false;
  // The caller asked for the operation to be cancelled.
  bool cancel_requested = false;
  // The transport withheld an answer whose CBOR was not well-formed (report_io.h).
  bool malformed_answer = false;
  // For FIDO_ERR_PIN_INVALID: the tries left, as read back from the token (if that worked).
  std::optional<int> retries_left;
};

// The touchpass error for a libfido2 result `fido_error` (not FIDO_OK). Transport evidence in
// `context` wins over the code: a removed token is token_removed and a timeout is
// presence_timeout whatever libfido2 reports, because libfido2 reports both as FIDO_ERR_RX (or
// FIDO_ERR_INTERNAL during a key agreement). Meant for the results of calls that talk to a
// token. Messages never contain secrets.
Error translate_fido_error(int fido_error, const FailureContext& context = {});

// The sentence for a wrong PIN with `retries_left` tries left.
std::string wrong_pin_message(std::optional<int> retries_left);

// libfido2's name for `fido_error` (fido_strerr), e.g. "FIDO_ERR_PIN_INVALID".
std::string library_error_name(int fido_error);

// malformed_reply: the token sent something that cannot be used; `detail` names what (a
// libfido2 error name or the part of the reply).
Error malformed_reply(std::string_view detail);

// The detail of malformed_reply for an answer the transport withheld.
extern const std::string_view kMalformedCbor;

// The error for a failed open of `info` (libfido2 reports every failed open as
// FIDO_ERR_INTERNAL), from the errno of opening the device node or connecting to the socket.
// Absent (no_token): ENOENT/ENODEV/ENXIO for a device node; ENOENT/ECONNREFUSED/ENAMETOOLONG for
// a virtual token's socket (a stopped token). EACCES/EPERM and EBUSY (another program holds the
// key) have their own sentences (io_error); anything else is io_error with the system's text.
// Precondition: open_errno != 0.
Error translate_open_errno(const TokenInfo& info, int open_errno);

}  // namespace touchpass::devices::fido2
