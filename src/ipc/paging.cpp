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
  // Linear in the answer's size: the whole answer is dumped once to know its size, each item
  // once as it moves into an event, and the lists are shortened once at the end. (Dumping the
  // rest of the answer for every piece made a large audit log cost its size squared.)
  std::size_t remaining = ok_message(result).size();  // the final answer's size, as it shrinks
  std::map<std::string, std::size_t> moved;           // per list: items moved to events so far
  while (remaining > limit) {
    // Move items from the front of the longest list into one event.
    Json::array_t* list = nullptr;
    std::string key;
    std::size_t longest = 0;
    for (auto& [name, value] : fields) {
      if (!value.is_array()) continue;
      Json::array_t& candidate = value.get_ref<Json::array_t&>();
      const std::size_t left = candidate.size() - moved[name];
      if (list == nullptr || left > longest) {
        list = &candidate;
        key = name;
        longest = left;
      }
    }
    if (list == nullptr || longest < 2) {
      return Error{Code::internal, "An answer is too large to send."};
    }
    std::size_t& first = moved[key];
    Json::array_t items;
    std::size_t size = kEnvelope + key.size();
    std::size_t taken = 0;
    while (first + taken + 1 < list->size()) {  // the final answer keeps at least one
      Json& next = (*list)[first + taken];
      // Its bytes in the answer, and the comma that separated it from the next item.
      const std::size_t item = dump_compact(next).size() + 1;
      if (size + item > limit) break;
      size += item;
      remaining -= item;
      items.push_back(std::move(next));
      ++taken;
    }
    if (taken == 0) return Error{Code::internal, "An item of an answer is too large to send."};
    first += taken;
    Json event = Json::object();
    event["key"] = key;
    event["items"] = std::move(items);
    messages.push_back(event_message(kMoreEvent, std::move(event)));
  }
  for (auto& [name, count] : moved) {
    Json::array_t& list = fields.at(name).get_ref<Json::array_t&>();
    list.erase(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(count));
  }
  std::string final_message = ok_message(std::move(result));
  if (final_message.size() > limit) {
    return Error{Code::internal, "An answer could not be split to size."};  // a bug if ever
  }
  messages.push_back(std::move(final_message));
  return messages;
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
