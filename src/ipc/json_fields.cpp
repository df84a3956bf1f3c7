#include "ipc/json_fields.h"

namespace touchpass::ipc::fields {

namespace {

std::string quoted(const char* key) {
  return std::string("\"") + key + "\"";
}

}  // namespace

Error protocol(std::string sentence) {
  return Error{Code::protocol_error, std::move(sentence)};
}

Result<std::optional<std::string>> opt_string(const Json& j, const char* key, std::size_t max) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return protocol(quoted(key) + " must be a string.");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max) return protocol(quoted(key) + " is too long.");
  return std::optional<std::string>(s);
}

Result<std::string> req_string(const Json& j, const char* key, std::size_t max) {
  auto v = opt_string(j, key, max);
  if (!v.ok()) return v.error();
  if (!v->has_value() || (*v)->empty()) return protocol(quoted(key) + " is required.");
  return **v;
}

Result<bool> opt_bool(const Json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return false;
  if (!it->is_boolean()) return protocol(quoted(key) + " must be true or false.");
  return it->get<bool>();
}

Result<std::int64_t> opt_int(const Json& j, const char* key, std::int64_t min, std::int64_t max) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::int64_t{0};
  if (!it->is_number_integer()) return protocol(quoted(key) + " must be a whole number.");
  // Unsigned values above INT64_MAX are out of range as well.
  if (it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
    return protocol(quoted(key) + " is out of range.");
  }
  const auto v = it->get<std::int64_t>();
  if (v < min || v > max) return protocol(quoted(key) + " is out of range.");
  return v;
}

Result<Bytes> opt_bytes(const Json& j, const char* key, std::size_t min, std::size_t max) {
  // base64url needs 4 characters for every 3 bytes.
  auto text = opt_string(j, key, (max * 4 + 2) / 3);
  if (!text.ok()) return text.error();
  if (!text->has_value()) return Bytes{};
  auto bytes = from_base64url(**text);
  if (!bytes) return protocol(quoted(key) + " must be base64url without padding.");
  if (bytes->size() < min || bytes->size() > max) {
    return protocol(quoted(key) + " must hold " + std::to_string(min) + " to " +
                    std::to_string(max) + " bytes.");
  }
  return std::move(*bytes);
}

Result<Bytes> req_bytes(const Json& j, const char* key, std::size_t min, std::size_t max) {
  if (const auto it = j.find(key); it == j.end() || it->is_null()) {
    return protocol(quoted(key) + " is required.");
  }
  return opt_bytes(j, key, min, max);
}

}  // namespace touchpass::ipc::fields
