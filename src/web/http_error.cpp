#include "web/http_error.h"

#include "ipc/messages.h"

namespace touchpass::web {

unsigned http_status_for(Code code) {
  switch (code) {
    case Code::not_found:
      return 404;
    case Code::permission_denied:
      return 403;
    case Code::busy:
      return 429;
    case Code::internal:
      return 500;
    case Code::io_error:  // touchpassd is not there, or cannot read its store
      return 503;
    default:
      return 400;
  }
}

HttpError http_error(Error error) {
  const unsigned status = http_status_for(error.code);
  return HttpError{status, std::move(error), std::chrono::seconds(0)};
}

std::string error_body(const Error& error) {
  return ipc::error_message(error);
}

}  // namespace touchpass::web
