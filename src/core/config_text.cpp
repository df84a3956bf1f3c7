#include "core/config_text.h"

#include <algorithm>
#include <set>

namespace touchpass {

namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

}  // namespace

Error config_line_error(std::string_view origin, std::size_t number, std::string_view reason) {
  return Error{Code::invalid_argument,
               std::string(origin) + ":" + std::to_string(number) + ": " + std::string(reason)};
}

Result<std::vector<ConfigLine>> split_config_lines(std::string_view text, std::string_view origin) {
  std::vector<ConfigLine> lines;
  std::set<std::string_view> seen;
  std::size_t number = 0;
  for (std::size_t start = 0; start <= text.size();) {
    const std::size_t newline = std::min(text.find('\n', start), text.size());
    std::string_view line = text.substr(start, newline - start);
    start = newline + 1;
    ++number;
    line = trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    const auto eq = line.find('=');
    if (eq == std::string_view::npos)
      return config_line_error(origin, number, "expected `key = value`");
    const ConfigLine entry{number, trim(line.substr(0, eq)), trim(line.substr(eq + 1))};
    if (entry.key.empty()) return config_line_error(origin, number, "expected `key = value`");
    if (!seen.insert(entry.key).second) {
      return config_line_error(origin, number, "\"" + std::string(entry.key) + "\" is set twice");
    }
    lines.push_back(entry);
  }
  return lines;
}

}  // namespace touchpass
