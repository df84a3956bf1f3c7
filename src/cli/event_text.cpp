#include "cli/event_text.h"

#include "cli/format.h"

namespace touchpass::cli {

namespace {

constexpr int kMaxSteps = 16;

Error malformed(std::string_view what) {
  return Error{Code::protocol_error,
               "touchpassd sent a malformed message (" + std::string(what) + ")."};
}

}  // namespace

std::optional<int> event_int_field(const ipc::Json& body, const char* key, int min, int max) {
  const auto it = body.find(key);
  if (it == body.end() || !it->is_number_integer()) return std::nullopt;
  if (it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
    return std::nullopt;
  }
  const auto v = it->get<std::int64_t>();
  if (v < min || v > max) return std::nullopt;
  return static_cast<int>(v);
}

Result<std::optional<std::string>> display_event_line(std::string_view event, const ipc::Json& body,
                                                      std::string_view purpose) {
  using Line = std::optional<std::string>;
  if (event == "insert-token") return Line("Insert your security key…\n");
  if (event == "select-token") {
    return Line("Several security keys are plugged in: touch the one you want to use…\n");
  }
  if (event == "touch-token") {
    const auto steps = event_int_field(body, "steps", 1, kMaxSteps);
    const auto step = event_int_field(body, "step", 1, steps.value_or(1));
    if (!steps || !step) return malformed("touch-token without a valid \"step\" and \"steps\"");
    std::string line = "Touch your security key";
    if (!purpose.empty()) line += " " + printable(purpose);
    line += "…";
    if (*steps > 1) {
      line += " (step " + std::to_string(*step) + " of " + std::to_string(*steps) + ")";
    }
    return Line(line + "\n");
  }
  if (event == "progress") {
    const auto it = body.find("message");
    if (it == body.end() || !it->is_string()) return malformed("progress without a \"message\"");
    return Line(printable(it->get<std::string>()) + "\n");
  }
  return Line();
}

Result<std::string> insert_token_countdown(const ipc::Json& body) {
  constexpr int kMaxWaitSeconds = 24 * 3600;
  const auto left = event_int_field(body, "remaining", 0, kMaxWaitSeconds);
  if (!left) return malformed("insert-token without a valid \"remaining\"");
  return "Insert your security key… " + std::to_string(*left) + " s left (Ctrl-C cancels)";
}

}  // namespace touchpass::cli
