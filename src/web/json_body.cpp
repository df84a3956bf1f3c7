#include "web/json_body.h"

#include <string>

#include "ipc/messages.h"

namespace touchpass::web {

Result<nlohmann::json> parse_json_body(std::string_view body) {
  auto [j, too_deep] = ipc::parse_json_bounded(body);
  if (too_deep) {
    return Error{Code::protocol_error, "The request body nests objects and arrays more than " +
                                           std::to_string(ipc::kMaxJsonDepth) + " levels deep."};
  }
  if (j.is_discarded()) return Error{Code::protocol_error, "The request body is not valid JSON."};
  if (!j.is_object()) {
    return Error{Code::protocol_error, "The request body is not a JSON object."};
  }
  const auto v = j.find("v");
  if (v == j.end() || !v->is_number_integer()) {
    return Error{Code::protocol_error, "The request body has no API version (\"v\": 1)."};
  }
  if (v->get<std::int64_t>() != 1) {
    return Error{Code::unsupported_version,
                 "API version " + v->dump() + " is not supported; this server speaks 1."};
  }
  return j;
}

}  // namespace touchpass::web
