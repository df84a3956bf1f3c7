#include "web/response.h"

#include <string>

#include "web/security_headers.h"

namespace touchpass::web {

Response::Response(MHD_Response* response, unsigned status, bool tls, bool api)
    : response_(response), status_(status) {
  if (!response_) return;
  for (const auto& [name, value] : security_headers(tls, api)) add_header(name, value);
}

Response Response::json(unsigned status, const std::string& body, bool tls, bool api) {
  Response r(MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()),
                                             MHD_RESPMEM_MUST_COPY),
             status, tls, api);
  if (r.valid()) r.add_header("Content-Type", "application/json");
  return r;
}

Response Response::error(const HttpError& error, bool tls, bool api) {
  Response r = json(error.status, error_body(error.error), tls, api);
  if (r.valid() && error.retry_after.count() > 0) {
    r.add_header("Retry-After", std::to_string(error.retry_after.count()));
  }
  return r;
}

Response Response::document(std::string_view body, std::string_view content_type, bool tls) {
  Response r(MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()),
                                             MHD_RESPMEM_MUST_COPY),
             200, tls, false);
  if (r.valid()) r.add_header("Content-Type", content_type);
  return r;
}

Response Response::file(StaticFile file, bool tls) {
  // MHD takes the descriptor over on success; on failure it stays ours (and `file` closes it).
  MHD_Response* response = MHD_create_response_from_fd64(file.size, file.fd.get());
  if (response != nullptr) (void)file.fd.release();
  Response r(response, 200, tls, false);
  if (r.valid()) r.add_header("Content-Type", file.content_type);
  return r;
}

void Response::add_header(std::string_view name, std::string_view value) {
  MHD_add_response_header(response_.get(), std::string(name).c_str(), std::string(value).c_str());
}

MHD_Result Response::queue(MHD_Connection* connection) const {
  if (!response_) return MHD_NO;
  return MHD_queue_response(connection, status_, response_.get());
}

}  // namespace touchpass::web
