#include "cli/format.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <optional>

#include "core/utf8.h"

namespace touchpass::cli {

namespace {

using ipc::Json;

// Reads the fields of one object of a listing; the first problem is kept as the error.
class Fields {
 public:
  Fields(const Json& object, std::string_view what) : object_(object), what_(what) {}

  // A string field, made printable. Required unless `optional` ("" when absent).
  std::string text(const char* key, bool optional = false) {
    const auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) {
      if (!optional) fail(key);
      return "";
    }
    if (!it->is_string()) {
      fail(key);
      return "";
    }
    return printable(it->get_ref<const std::string&>());
  }

  // A whole-number field (Unix seconds, counts); nullopt when absent and `optional`.
  std::optional<std::int64_t> number(const char* key, bool optional = false) {
    const auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) {
      if (!optional) fail(key);
      return std::nullopt;
    }
    if (!it->is_number_integer() ||
        (it->is_number_unsigned() && it->get<std::uint64_t>() > INT64_MAX)) {
      fail(key);
      return std::nullopt;
    }
    return it->get<std::int64_t>();
  }

  // A field as it is, for structured values; nullptr when absent.
  const Json* raw(const char* key) const {
    const auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }

  // A boolean field; false when absent.
  bool flag(const char* key) {
    const auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) return false;
    if (!it->is_boolean()) fail(key);
    return it->is_boolean() && it->get<bool>();
  }

  // True when the field is present (and not null).
  bool has(const char* key) const {
    const auto it = object_.find(key);
    return it != object_.end() && !it->is_null();
  }

  // The scopes of a grant, joined by ","; "all" when empty.
  std::string scopes() { return joined("scopes", "all"); }
  // The networks a grant may be used from, joined by ","; "anywhere" when it has none.
  std::string networks() { return joined("networks", "anywhere"); }

  const std::optional<Error>& error() const { return error_; }

 private:
  // The list of strings `key`, joined by ","; `none` when absent or empty.
  std::string joined(const char* key, const char* none) {
    const auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) return none;
    if (!it->is_array()) {
      fail(key);
      return "";
    }
    std::string out;
    for (const auto& item : *it) {
      if (!item.is_string()) {
        fail(key);
        return "";
      }
      if (!out.empty()) out += ",";
      out += printable(item.get_ref<const std::string&>());
    }
    return out.empty() ? none : out;
  }

  void fail(const char* key) {
    if (!error_) {
      error_ = Error{Code::protocol_error, "touchpassd sent a malformed " + std::string(what_) +
                                               " (field \"" + key + "\")."};
    }
  }

  const Json& object_;
  std::string_view what_;
  std::optional<Error> error_;
};

// The array `key` of `result`, each element an object. Errors: protocol_error.
Result<const Json*> listing(const Json& result, const char* key) {
  const auto it = result.find(key);
  if (!result.is_object() || it == result.end() || !it->is_array()) {
    return Error{Code::protocol_error,
                 "touchpassd sent a malformed answer (no \"" + std::string(key) + "\" list)."};
  }
  for (const auto& element : *it) {
    if (!element.is_object()) {
      return Error{Code::protocol_error, "touchpassd sent a malformed answer (\"" +
                                             std::string(key) + "\" holds a non-object)."};
    }
  }
  return &*it;
}

std::string time_or(const std::optional<std::int64_t>& when, std::string_view absent) {
  return when ? format_time(*when) : std::string(absent);
}

// Builds the table, or the sentence for an empty list, or the first malformed field's error.
template <class RowOf>
Result<std::string> table(const Json& result, const char* key, std::string_view what,
                          std::vector<std::string> headers, std::string_view empty, RowOf row_of) {
  auto list = listing(result, key);
  if (!list.ok()) return list.error();
  if ((*list)->empty()) return std::string(empty);
  std::vector<std::vector<std::string>> rows;
  for (const auto& element : **list) {
    Fields fields(element, what);
    auto row = row_of(fields);
    if (fields.error()) return *fields.error();
    rows.push_back(std::move(row));
  }
  return render_table(headers, rows);
}

// Characters other than C0 controls that can change a terminal or the order in which it shows
// text: DEL, the C1 controls (U+009B is CSI), the bidirectional controls (Unicode's
// Bidi_Control: marks, embeddings, overrides and isolates) and the line and paragraph
// separators.
bool disturbs_terminal(char32_t c) {
  return c == 0x7F || (c >= 0x80 && c <= 0x9F) || c == 0x061C || c == 0x200E || c == 0x200F ||
         (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0x2028 || c == 0x2029;
}

std::vector<std::string> with_user_column(bool with_user, std::vector<std::string> columns) {
  if (with_user) columns.insert(columns.begin(), "USER");
  return columns;
}

}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t at = 0; at < text.size();) {
    const auto decoded = decode_utf8_char(text.substr(at));
    if (!decoded) {
      out += '?';
      ++at;
      continue;
    }
    if (decoded->code_point < 0x20 || disturbs_terminal(decoded->code_point)) {
      out += '?';
    } else {
      out += text.substr(at, decoded->length);
    }
    at += decoded->length;
  }
  return out;
}

std::size_t count_characters(std::string_view text) {
  std::size_t count = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) ++count;
  }
  return count;
}

std::string format_time(std::int64_t unix_seconds) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm local{};
  char text[32];
  if (::localtime_r(&t, &local) == nullptr ||
      std::strftime(text, sizeof text, "%Y-%m-%d %H:%M", &local) == 0) {
    return std::to_string(unix_seconds);
  }
  return text;
}

std::string render_table(const std::vector<std::string>& headers,
                         const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths(headers.size());
  const auto measure = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], count_characters(cells[i]));
    }
  };
  measure(headers);
  for (const auto& row : rows) measure(row);

  std::string out;
  const auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size() && i < widths.size(); ++i) {
      out += cells[i];
      if (i + 1 < cells.size()) out.append(widths[i] - count_characters(cells[i]) + 2, ' ');
    }
    out.erase(out.find_last_not_of(' ') + 1);  // no padding after the last non-empty cell
    out += '\n';
  };
  line(headers);
  for (const auto& row : rows) line(row);
  return out;
}

Result<std::string> tokens_table(const Json& result, bool with_user) {
  return table(result, "tokens", "token",
               with_user_column(with_user, {"LABEL", "DEVICE", "UV", "CREATED"}),
               "No security keys are enrolled.\n", [&](Fields& f) {
                 std::vector<std::string> row;
                 if (with_user) row.push_back(f.text("user"));
                 std::string label = f.text("label");
                 if (f.has("revoked")) label += " (revoked)";
                 std::string device = f.text("device");
                 if (f.flag("virtual")) device += " (virtual)";
                 row.push_back(std::move(label));
                 row.push_back(std::move(device));
                 row.push_back(f.text("uv"));
                 row.push_back(time_or(f.number("created"), "-"));
                 return row;
               });
}

Result<std::string> grants_table(const Json& result, bool with_user) {
  const std::vector<std::string> columns = {"NAME",    "SCOPES", "FROM",     "CREATED",
                                            "EXPIRES", "TOKEN",  "LAST USED"};
  return table(result, "grants", "app password", with_user_column(with_user, columns),
               "No app passwords.\n", [&](Fields& f) {
                 std::vector<std::string> row;
                 if (with_user) row.push_back(f.text("user"));
                 row.push_back(f.text("name"));
                 row.push_back(f.scopes());
                 row.push_back(f.networks());
                 row.push_back(time_or(f.number("created"), "-"));
                 const auto expires = f.number("expires");
                 if (f.has("revoked")) {
                   row.push_back("revoked");
                 } else {
                   row.push_back(expires && *expires != 0 ? format_time(*expires) : "never");
                 }
                 row.push_back(f.text("token_label", true));
                 std::string last_used = time_or(f.number("last_used", true), "never");
                 if (const std::string service = f.text("last_service", true); !service.empty()) {
                   last_used += " (" + service + ")";
                 }
                 if (const std::string address = f.text("last_address", true); !address.empty()) {
                   last_used += " from " + address;
                 }
                 row.push_back(std::move(last_used));
                 return row;
               });
}

Result<std::string> devices_table(const Json& result) {
  return table(result, "devices", "device", {"PATH", "PRODUCT", "KIND", "VIRTUAL", "DETAILS"},
               "No security keys are present.\n", [](Fields& f) {
                 std::string details;
                 if (f.text("kind", true) == "yubikey") {
                   // Serial, firmware and which challenge-response slots are programmed.
                   details = "serial " + std::to_string(f.number("serial", true).value_or(0)) +
                             ", firmware " + f.text("firmware", true);
                   const auto slots = f.raw("slots");
                   if (slots && slots->is_array()) {
                     for (const auto& slot : *slots) {
                       if (!slot.is_object() || !slot.contains("slot")) continue;
                       const auto programmed = slot.find("programmed");
                       const bool yes = programmed != slot.end() && programmed->is_boolean() &&
                                        programmed->get<bool>();
                       details += ", slot " + printable(slot.at("slot").dump()) +
                                  (yes ? " programmed" : " empty");
                     }
                   }
                 }
                 // The catalog's model name when the daemon knows the key, else its product.
                 std::string product = f.text("model", true);
                 if (product.empty()) product = f.text("product", true);
                 return std::vector<std::string>{f.text("path"), product, f.text("kind", true),
                                                 f.flag("virtual") ? "yes" : "no", details};
               });
}

Result<std::string> log_table(const Json& result) {
  return table(result, "entries", "audit log entry",
               {"TIME", "ACTOR", "ACTION", "USER", "OBJECT", "RESULT"}, "The audit log is empty.\n",
               [](Fields& f) {
                 return std::vector<std::string>{
                     time_or(f.number("time"), "-"), f.text("actor"),        f.text("action"),
                     f.text("user", true),           f.text("object", true), f.text("result")};
               });
}

std::string terminal_safe_json(std::string_view json_text) {
  std::string out;
  out.reserve(json_text.size());
  for (std::size_t at = 0; at < json_text.size();) {
    const auto decoded = decode_utf8_char(json_text.substr(at));
    if (!decoded || disturbs_terminal(decoded->code_point)) {
      // Only strings hold such characters, and there a \u escape means the same; invalid UTF-8
      // becomes U+FFFD.
      const char32_t c = decoded ? decoded->code_point : 0xFFFD;
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04x", static_cast<unsigned>(c));
      out += escape;
    } else {
      out += json_text.substr(at, decoded->length);
    }
    at += decoded ? decoded->length : 1;
  }
  return out;
}

std::string pretty_json(const Json& result) {
  return terminal_safe_json(result.dump(2, ' ', false, Json::error_handler_t::replace)) + "\n";
}

std::string throttle_summary(const Json& result) {
  const auto throttle = result.find("throttle");
  if (throttle == result.end() || !throttle->is_object()) return "";
  std::string out;
  const auto failures = throttle->find("recent_failures");
  if (failures != throttle->end() && failures->is_number_integer() &&
      failures->get<std::int64_t>() > 0) {
    out += "Failed verifications for this account recently: " +
           std::to_string(failures->get<std::int64_t>()) + ".\n";
  }
  const auto locked = throttle->find("locked_sources");
  if (locked != throttle->end() && locked->is_array() && !locked->empty()) {
    out += "Locked after too many failures (nothing from them is accepted until then):\n";
    for (const auto& entry : *locked) {
      if (!entry.is_object()) continue;
      const auto source = entry.find("source");
      const auto until = entry.find("locked_until");
      if (source == entry.end() || !source->is_string() || until == entry.end() ||
          !until->is_number_integer()) {
        continue;
      }
      out += "  " + printable(source->get<std::string>()) + " until " +
             format_time(until->get<std::int64_t>()) + "\n";
    }
    out += "An admin lifts a lock with `touchpass unlock --source SOURCE`.\n";
  }
  return out;
}

}  // namespace touchpass::cli
