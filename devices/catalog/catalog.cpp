#include "devices/catalog/catalog.h"

#include <algorithm>
#include <array>
#include <cstddef>

namespace touchpass::devices::catalog {

const CatalogEntry* find_token(std::uint16_t vendor_id, std::uint16_t product_id) {
  const auto tokens = all_tokens();
  const auto key = [](const CatalogEntry& e) {
    return (static_cast<std::uint32_t>(e.vendor_id) << 16) | e.product_id;
  };
  const std::uint32_t wanted = (static_cast<std::uint32_t>(vendor_id) << 16) | product_id;
  const auto it =
      std::lower_bound(tokens.begin(), tokens.end(), wanted,
                       [&](const CatalogEntry& e, std::uint32_t value) { return key(e) < value; });
  if (it == tokens.end() || key(*it) != wanted) return nullptr;
  return &*it;
}

const KnownModel* find_model(std::string_view aaguid) {
  constexpr std::size_t kLength = 36;
  if (aaguid.size() != kLength) return nullptr;
  std::array<char, kLength> lower{};
  for (std::size_t i = 0; i < kLength; ++i) {
    const char c = aaguid[i];
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position) {
      if (c != '-') return nullptr;
      lower[i] = c;
    } else if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) {
      lower[i] = c;
    } else if (c >= 'A' && c <= 'F') {
      lower[i] = static_cast<char>(c - 'A' + 'a');
    } else {
      return nullptr;
    }
  }
  const std::string_view wanted(lower.data(), lower.size());
  const auto models = all_models();
  const auto it = std::lower_bound(
      models.begin(), models.end(), wanted,
      [](const KnownModel& m, std::string_view value) { return m.aaguid < value; });
  if (it == models.end() || it->aaguid != wanted) return nullptr;
  return &*it;
}

}  // namespace touchpass::devices::catalog
