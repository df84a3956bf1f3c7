// The text of touchpass's configuration files: lines of `key = value`; `#` starts a comment;
// blank lines are ignored; a key may be set once. Pure: the caller reads the file and gives
// each value its meaning.
#pragma once

#include <cstddef>
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

}  // namespace touchpass
