#include "core/client_data.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>

#include "core/crypto.h"

namespace touchpass {

namespace {

using nlohmann::json;

Status refused(std::string sentence) {
  return Status(Code::verification_failed, std::move(sentence));
}

// The string member `key` of `object`, or nullptr when absent or not a string.
const std::string* string_member(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return nullptr;
  return &it->get_ref<const std::string&>();
}

// Constant-time comparison: the challenge is public, but there is no reason to leak timing.
bool same_bytes(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  if (a.size() != b.size()) return false;
  std::uint8_t diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<std::uint8_t>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

Result<ClientData> parse_client_data(std::string_view text) {
  if (text.size() > kMaxClientDataBytes) {
    return refused("The client data is larger than " + std::to_string(kMaxClientDataBytes) +
                   " bytes.");
  }
  bool too_deep = false;
  const json::parser_callback_t bound = [&too_deep](int depth, json::parse_event_t event, json&) {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
        depth >= kMaxClientDataDepth) {
      too_deep = true;
    }
    return !too_deep;
  };
  json parsed = json::parse(text, bound, /*allow_exceptions=*/false);
  if (too_deep) return refused("The client data nests too deeply.");
  if (parsed.is_discarded() || !parsed.is_object()) {
    return refused("The client data is not a JSON object.");
  }
  ClientData data;
  const std::string* type = string_member(parsed, "type");
  const std::string* challenge = string_member(parsed, "challenge");
  const std::string* origin = string_member(parsed, "origin");
  if (type == nullptr || challenge == nullptr || origin == nullptr) {
    return refused("The client data lacks its type, challenge or origin.");
  }
  std::optional<Bytes> decoded = from_base64url(*challenge);
  if (!decoded) return refused("The client data's challenge is not base64url.");
  const auto cross = parsed.find("crossOrigin");
  if (cross != parsed.end()) {
    if (!cross->is_boolean()) return refused("The client data's crossOrigin is not a boolean.");
    data.cross_origin = cross->get<bool>();
  }
  data.type = *type;
  data.challenge = std::move(*decoded);
  data.origin = *origin;
  return data;
}

Result<std::array<std::uint8_t, 32>> client_data_hash(std::string_view json) {
  std::array<std::uint8_t, 32> hash{};
  if (Status s = crypto::sha256({crypto::text_bytes(json)}, hash); !s.ok()) return s.error();
  return hash;
}

Status check_client_data(const ClientData& data, const ClientDataExpectation& expected) {
  if (data.type != expected.type) {
    return refused("The client data is of the wrong type (expected " + std::string(expected.type) +
                   ").");
  }
  if (!same_bytes(data.challenge, expected.challenge)) {
    return refused("The client data carries another challenge than this ceremony's.");
  }
  if (std::find(expected.origins.begin(), expected.origins.end(), data.origin) ==
      expected.origins.end()) {
    return refused("The client data comes from an origin this server does not accept.");
  }
  if (data.cross_origin) return refused("The client data comes from a cross-origin frame.");
  return Status::success();
}

}  // namespace touchpass
