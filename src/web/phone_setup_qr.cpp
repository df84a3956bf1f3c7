#include "web/phone_setup_qr.h"

#include <string>

#include "core/qr_code.h"

namespace touchpass::web {

void add_phone_setup_qr(nlohmann::json& result) {
  if (!result.is_object()) return;
  const auto setup = result.find("phone_setup");
  if (setup == result.end() || !setup->is_object()) return;
  const auto link = setup->find("link");
  if (link == setup->end() || !link->is_string()) return;
  auto code = encode_qr(link->get_ref<const std::string&>());
  if (!code.ok()) {
    (*setup)["qr_error"] = code.error().message;
    return;
  }
  nlohmann::json rows = nlohmann::json::array();
  for (int y = 0; y < code->size; ++y) {
    std::string row(static_cast<std::size_t>(code->size), '0');
    for (int x = 0; x < code->size; ++x) {
      if (code->at(x, y)) row[static_cast<std::size_t>(x)] = '1';
    }
    rows.push_back(std::move(row));
  }
  (*setup)["qr"] = {{"size", code->size}, {"rows", std::move(rows)}};
}

}  // namespace touchpass::web
