// Answers of any size. A frame's JSON is at most kMaxJsonSize, so a larger answer (a long
// audit log, thousands of grants) is sent in pieces: `more` events that each carry items of
// one of the answer's lists, then the final answer with the rest of them. A client appends
// each event's items in order and puts them before the final answer's items of that list.
//
//   {"v": 1, "event": "more", "key": "entries", "items": [Entry…]}
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "ipc/frame.h"
#include "ipc/messages.h"

namespace touchpass::ipc {

inline constexpr std::string_view kMoreEvent = "more";

// The messages that carry `result` (daemon side): `more` events, then the final answer, each
// at most `limit` bytes. Error internal when it cannot be split (no list long enough to move,
// or one item over the limit).
Result<std::vector<std::string>> paged_ok_messages(Json result, std::size_t limit = kMaxJsonSize);

// Puts the pieces back together (client side). Bounded: a daemon cannot make a client hold
// more than `max_bytes` of items.
class PageAssembler {
 public:
  explicit PageAssembler(std::size_t max_bytes = 64u << 20) : max_bytes_(max_bytes) {}

  // Takes the fields of one `more` event, moving its items (pass an rvalue to avoid a copy).
  // Error protocol_error when they are malformed or over the bound.
  Status absorb(Json fields);
  // Puts what was absorbed before the final result's items. Error protocol_error when the
  // final result does not have the lists the events were for.
  Status complete(Json& result);

 private:
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  std::map<std::string, Json::array_t> pending_;
};

}  // namespace touchpass::ipc
