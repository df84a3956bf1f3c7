// A refusal at the HTTP edge: the HTTP status and the touchpass error (stable code name and a
// sentence) the JSON body carries, in the local protocol's format (ipc/messages.h).
#pragma once

#include <chrono>
#include <string>

#include "core/status.h"

namespace touchpass::web {

struct HttpError {
  unsigned status = 500;
  Error error;
  std::chrono::seconds retry_after{0};  // 429: when the client may try again (Retry-After)
};

// The HTTP status for an error touchpassd (or this gateway) gives with `code`: not_found 404,
// permission_denied 403, busy 429, internal 500, io_error 503, every other code 400.
unsigned http_status_for(Code code);

// `error` with the status http_status_for() gives its code.
HttpError http_error(Error error);

// The JSON body: {"v":1,"ok":false,"error":{"code":"…","message":"…"}}.
std::string error_body(const Error& error);

}  // namespace touchpass::web
