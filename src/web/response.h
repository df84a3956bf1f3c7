// One HTTP response being built (an owned MHD_Response): JSON answers, API errors, documents
// and static files, each with the security headers (security_headers.h), handed to the connection
// once.
#pragma once

#include <microhttpd.h>

#include <memory>
#include <string>
#include <string_view>

#include "web/http_error.h"
#include "web/static_files.h"

namespace touchpass::web {

class Response {
 public:
  // A JSON body with `status`; `api` adds Cache-Control: no-store.
  static Response json(unsigned status, const std::string& body, bool tls, bool api);
  // An error as JSON (http_error.h); Retry-After when error.retry_after is set.
  static Response error(const HttpError& error, bool tls, bool api);
  // A document (200) of `content_type` other than the API's JSON; the body is copied.
  static Response document(std::string_view body, std::string_view content_type, bool tls);
  // A static file (200); the response owns the descriptor and closes it.
  static Response file(StaticFile file, bool tls);

  // Adds a header. Precondition: valid().
  void add_header(std::string_view name, std::string_view value);
  // Whether the response could be created (only memory can run out).
  bool valid() const { return response_ != nullptr; }

  // Queues the response on `connection` (MHD_NO when it could not be).
  MHD_Result queue(MHD_Connection* connection) const;

 private:
  struct Destroy {
    void operator()(MHD_Response* r) const { MHD_destroy_response(r); }
  };
  Response(MHD_Response* response, unsigned status, bool tls, bool api);

  std::unique_ptr<MHD_Response, Destroy> response_;
  unsigned status_;
};

}  // namespace touchpass::web
