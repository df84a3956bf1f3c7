// "Did you mean …?" for a mistyped command: the nearest of the known words.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace touchpass::cli {

// The number of single-character insertions, deletions, substitutions and swaps of two
// neighbouring characters that turn `a` into `b` (bytes; optimal string alignment distance).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The word of `words` that `typed` most likely misspells: the nearest by edit_distance when it
// is at most 2 and at most a third of `typed` (at least 1), else the only word `typed` (two
// characters or more) begins. nullopt when none is near, or when two are equally near.
std::optional<std::string> nearest_word(std::string_view typed, std::span<const std::string> words);

}  // namespace touchpass::cli
