#include "cli/expiry.h"

#include <cctype>
#include <charconv>
#include <chrono>
#include <optional>
#include <string>

namespace touchpass::cli {

namespace {

constexpr std::int64_t kDay = 86400;

Error bad_value(std::string_view text, std::string_view why = {}) {
  std::string sentence = "Invalid --expires value \"" + std::string(text) + "\"";
  if (!why.empty()) sentence += " (" + std::string(why) + ")";
  sentence +=
      ": use a duration such as 90d, 12w, 6m or 1y (days, weeks, 30-day months, 365-day "
      "years), a date YYYY-MM-DD (expires at 00:00 UTC that day), or never.";
  return Error{Code::invalid_argument, std::move(sentence)};
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) return false;
  }
  return true;
}

// Parses a run of decimal digits; nullopt when empty, not all digits, or too large.
std::optional<std::int64_t> whole_number(std::string_view s) {
  if (!all_digits(s)) return std::nullopt;
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<std::int64_t> unit_seconds(char unit) {
  switch (std::tolower(static_cast<unsigned char>(unit))) {
    case 'd':
      return kDay;
    case 'w':
      return 7 * kDay;
    case 'm':
      return 30 * kDay;
    case 'y':
      return 365 * kDay;
    default:
      return std::nullopt;
  }
}

Result<std::int64_t> parse_date(std::string_view text) {
  const auto year = whole_number(text.substr(0, 4));
  const auto month = whole_number(text.substr(5, 2));
  const auto day = whole_number(text.substr(8, 2));
  if (!year || !month || !day) return bad_value(text);
  const std::chrono::year_month_day date{std::chrono::year{static_cast<int>(*year)},
                                         std::chrono::month{static_cast<unsigned>(*month)},
                                         std::chrono::day{static_cast<unsigned>(*day)}};
  if (!date.ok()) return bad_value(text, "no such date");
  const auto days = std::chrono::sys_days(date).time_since_epoch().count();
  return static_cast<std::int64_t>(days) * kDay;
}

}  // namespace

Result<std::int64_t> parse_expiry(std::string_view text, std::int64_t now) {
  if (text == "never") return std::int64_t{0};

  std::int64_t expires = 0;
  if (text.size() == 10 && text[4] == '-' && text[7] == '-') {
    auto date = parse_date(text);
    if (!date.ok()) return date;
    expires = *date;
  } else if (text.size() >= 2) {
    const auto unit = unit_seconds(text.back());
    const auto count = whole_number(text.substr(0, text.size() - 1));
    if (!unit || !count) return bad_value(text);
    if (*count == 0) return bad_value(text, "the duration must be at least 1");
    // Bounded before multiplying so that the product cannot overflow.
    if (*count > (kMaxExpires - now) / *unit) return bad_value(text, "too far in the future");
    expires = now + *count * *unit;
  } else {
    return bad_value(text);
  }
  if (expires <= now) return bad_value(text, "that is not in the future");
  if (expires > kMaxExpires) return bad_value(text, "too far in the future");
  return expires;
}

}  // namespace touchpass::cli
