#include "ipc/paging.h"

#include <iterator>

namespace touchpass::ipc {

namespace {

// Room for the event's own fields around its items.
constexpr std::size_t kEnvelope = 128;

std::string dump_compact(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

Result<std::vector<std::string>> paged_ok_messages(Json result, std::size_t limit) {
  std::vector<std::string> messages;
  if (!result.is_object()) return Error{Code::internal, "An answer must be an object."};
  Json::object_t& fields = result.get_ref<Json::object_t&>();
  while (true) {
    std::string final_message = ok_message(result);
    if (final_message.size() <= limit) {
      messages.push_back(std::move(final_message));
      return messages;
    }
    // Move items from the front of the longest list into one event.
    Json::array_t* list = nullptr;
    std::string key;
    for (auto& [name, value] : fields) {
      if (!value.is_array()) continue;
      Json::array_t& candidate = value.get_ref<Json::array_t&>();
      if (list == nullptr || candidate.size() > list->size()) {
        list = &candidate;
        key = name;
      }
    }
    if (list == nullptr || list->size() < 2) {
      return Error{Code::internal, "An answer is too large to send."};
    }
    Json::array_t items;
    std::size_t size = kEnvelope + key.size();
    std::size_t taken = 0;
    while (taken + 1 < list->size()) {  // the final answer keeps at least one
      const std::size_t item = dump_compact((*list)[taken]).size() + 1;
      if (size + item > limit) break;
      size += item;
      items.push_back(std::move((*list)[taken]));
      ++taken;
    }
    if (taken == 0) return Error{Code::internal, "An item of an answer is too large to send."};
    list->erase(list->begin(), list->begin() + static_cast<std::ptrdiff_t>(taken));
    Json event = Json::object();
    event["key"] = key;
    event["items"] = std::move(items);
    messages.push_back(event_message(kMoreEvent, std::move(event)));
  }
}

Status PageAssembler::absorb(Json fields) {
  if (!fields.is_object() || !fields.contains("key") || !fields.contains("items")) {
    return Status(Code::protocol_error, "A \"more\" event needs \"key\" and \"items\".");
  }
  const Json& key = fields.at("key");
  Json& items = fields.at("items");
  if (!key.is_string() || !items.is_array()) {
    return Status(Code::protocol_error, "A \"more\" event needs \"key\" and \"items\".");
  }
  bytes_ += dump_compact(items).size();
  if (bytes_ > max_bytes_) {
    return Status(Code::protocol_error, "touchpassd sent an answer larger than a client takes.");
  }
  auto& pending = pending_[key.get_ref<const std::string&>()];
  Json::array_t& list = items.get_ref<Json::array_t&>();
  pending.insert(pending.end(), std::make_move_iterator(list.begin()),
                 std::make_move_iterator(list.end()));
  return {};
}

Status PageAssembler::complete(Json& result) {
  for (auto& [key, items] : pending_) {
    Json* list = result.is_object() && result.contains(key) ? &result[key] : nullptr;
    if (list == nullptr || !list->is_array()) {
      return Status(Code::protocol_error,
                    "touchpassd sent pieces of \"" + key + "\" but no such list in its answer.");
    }
    Json::array_t& rest = list->get_ref<Json::array_t&>();
    items.insert(items.end(), std::make_move_iterator(rest.begin()),
                 std::make_move_iterator(rest.end()));
    rest = std::move(items);
  }
  pending_.clear();
  bytes_ = 0;
  return {};
}

}  // namespace touchpass::ipc
