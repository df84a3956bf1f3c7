#include "web/json_body.h"

#include <string>

#include "ipc/messages.h"

namespace touchpass::web {

Result<nlohmann::json> parse_json_body(std::string_view body) {
  using Json = nlohmann::json;
  bool too_deep = false;
  const Json::parser_callback_t bounded = [&too_deep](int depth, Json::parse_event_t event, Json&) {
    if ((event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start) &&
        depth >= ipc::kMaxJsonDepth) {
      too_deep = true;
    }
    return !too_deep;
  };
  Json j = Json::parse(body, bounded, /*allow_exceptions=*/false);
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
