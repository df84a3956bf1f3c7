#include <algorithm>
#include <chrono>

#include "cli/format.h"
#include "cli/local_channel.h"
#include "cli/runner.h"

namespace touchpass::cli {

namespace {

// How long the shell waits at most for touchpassd's answer while the user presses Tab.
constexpr std::chrono::milliseconds kCompletionTimeout{3000};

// The `field` of each object of `result[key]` that is not revoked, one a line; a value that
// would not survive as one line of a shell word (a control character) is left out.
std::string active_names(const Json& result, const char* key, const char* field) {
  std::string lines;
  const auto list = result.find(key);
  if (list == result.end() || !list->is_array()) return lines;
  for (const Json& item : *list) {
    if (!item.is_object()) continue;
    const auto revoked = item.find("revoked");
    if (revoked != item.end() && !revoked->is_null()) continue;
    const auto name = string_field(item, field);
    if (!name || name->empty() || printable(*name) != *name) continue;
    lines += *name + "\n";
  }
  return lines;
}

}  // namespace

int Runner::complete() {
  // Only touchpassd on this computer: a server would need a sign-in with the key. Whatever goes
  // wrong, the shell gets nothing and no message.
  if (!o_.server.empty()) return 0;
  const bool tokens = o_.complete_what == "tokens";
  ExchangeTiming timing = env_.timing;
  timing.reply_timeout = std::min(timing.reply_timeout, kCompletionTimeout);
  LocalChannel channel(o_.socket, env_.cancel, timing);
  ipc::Request r;
  r.op = tokens ? Op::tokens : Op::list;
  if (!o_.user.empty()) r.user = o_.user;
  auto answer = channel.call(r);
  if (!answer.ok()) return 0;
  env_.console.out(tokens ? active_names(answer->result, "tokens", "label")
                          : active_names(answer->result, "grants", "name"));
  return 0;
}

}  // namespace touchpass::cli
