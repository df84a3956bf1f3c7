// The text of touchpass's configuration files: lines of `key = value`; `#` starts a comment;
// blank lines are ignored; a key may be set once. Pure: the caller reads the file and gives
// each value its meaning.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace touchpass {

// One `key = value` line, both trimmed of spaces and tabs; views into the text given.
struct ConfigLine {
  std::size_t number = 0;  // 1 for the first line of the text
  std::string_view key;
  std::string_view value;  // may be empty
};

// The error for line `number` of the file `origin`: invalid_argument "ORIGIN:NUMBER: reason".
Error config_line_error(std::string_view origin, std::size_t number, std::string_view reason);

// Splits `text` into its `key = value` lines, in order. The views point into `text`.
// Error invalid_argument (config_line_error) for a line without `=`, an empty key or a key
// set twice.
Result<std::vector<ConfigLine>> split_config_lines(std::string_view text, std::string_view origin);

// How one key's value is read into a configuration: nullopt, or the reason the value is bad.
template <class Config>
using ConfigSetter = std::function<std::optional<std::string>(Config&, std::string_view)>;

// Every key a configuration accepts, with its setter.
template <class Config>
using ConfigSetters = std::map<std::string, ConfigSetter<Config>, std::less<>>;

// The keys of `setters`, in alphabetical order.
template <class Config>
std::vector<std::string_view> config_keys_of(const ConfigSetters<Config>& setters) {
  std::vector<std::string_view> keys;
  for (const auto& entry : setters) keys.push_back(entry.first);
  return keys;
}

// How a family of keys sharing a prefix (e.g. `service.imap`) is read: the key's rest after the
// prefix ("imap") and the value; nullopt, or the reason the line is bad.
template <class Config>
using ConfigPrefixSetter =
    std::function<std::optional<std::string>(Config&, std::string_view, std::string_view)>;

// Families of keys, by prefix (e.g. "service.").
template <class Config>
using ConfigPrefixSetters = std::map<std::string, ConfigPrefixSetter<Config>, std::less<>>;

// `config` with every line of `text` applied by its key's setter, or by the setter of the
// family whose prefix the key starts with (a key equal to the prefix alone is unknown). Error
// invalid_argument (config_line_error): as split_config_lines, "unknown key \"KEY\"", or "bad
// value for \"KEY\": reason".
template <class Config>
Result<Config> apply_config_lines(const ConfigSetters<Config>& setters, std::string_view text,
                                  std::string_view origin, Config config = {},
                                  const ConfigPrefixSetters<Config>& families = {}) {
  auto lines = split_config_lines(text, origin);
  if (!lines.ok()) return lines.error();
  for (const ConfigLine& line : *lines) {
    const auto family = std::find_if(families.begin(), families.end(), [&](const auto& f) {
      return line.key.size() > f.first.size() && line.key.starts_with(f.first);
    });
    if (family != families.end()) {
      if (auto reason = family->second(config, line.key.substr(family->first.size()), line.value)) {
        return config_line_error(origin, line.number,
                                 "bad value for \"" + std::string(line.key) + "\": " + *reason);
      }
      continue;
    }
    const auto it = setters.find(line.key);
    if (it == setters.end()) {
      return config_line_error(origin, line.number,
                               "unknown key \"" + std::string(line.key) + "\"");
    }
    if (auto reason = it->second(config, line.value)) {
      return config_line_error(origin, line.number,
                               "bad value for \"" + std::string(line.key) + "\": " + *reason);
    }
  }
  return config;
}

}  // namespace touchpass
