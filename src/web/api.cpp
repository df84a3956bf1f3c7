#include "web/api.h"

#include "ipc/messages.h"
#include "web/json_body.h"

namespace touchpass::web {

namespace {

ApiAnswer refuse(unsigned status, Code code, std::string message) {
  return ApiAnswer{status, error_body(Error{code, std::move(message)}), {}};
}

}  // namespace

bool Api::owns(std::string_view path) {
  return path == "/api" || path.starts_with("/api/");
}

ApiAnswer Api::handle(std::string_view method, std::string_view path,
                      const std::optional<std::string>& body) const {
  if (body) {
    auto parsed = parse_json_body(*body);
    if (!parsed.ok()) return ApiAnswer{400, error_body(parsed.error()), {}};
  }
  if (path == "/api/v1/health") {
    if (method != "GET" && method != "HEAD") {
      ApiAnswer answer = refuse(
          405, Code::protocol_error,
          "This path takes GET only (the method was " + std::string(method.substr(0, 16)) + ").");
      answer.allow = "GET, HEAD";
      return answer;
    }
    return ApiAnswer{200, ipc::ok_message({{"daemon", daemon_reachable_()}}), {}};
  }
  return refuse(404, Code::not_found, "There is no such API path.");
}

}  // namespace touchpass::web
