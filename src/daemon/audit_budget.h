// AuditBudget: how many failed requests of one actor get an audit entry each. A failure of a
// request a user may make (an issue without a key, a forged finish) is worth an entry of its
// own, but each is a durable write: past the budget, an actor's failures within the window are
// counted by the RefusalLog instead (aggregated, written in batches), so that no local or web
// user can fill the disk or the writer's time by failing in a loop. Bounded memory;
// thread-safe; the time is given, so tests control it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "store/records.h"

namespace touchpass::daemon {

class AuditBudget {
 public:
  struct Limits {
    std::size_t per_window = 30;  // itemized failures per actor per window
    std::chrono::seconds window{60};
    std::size_t actors = 4096;  // actors remembered at most
  };

  AuditBudget();  // the default Limits
  explicit AuditBudget(Limits limits) : limits_(limits) {}

  // Whether one more failure of the actor (`uid`, and `name` for a web user behind the
  // gateway's uid) may have an entry of its own at `now`; counts it when so. False past the
  // budget, and when the table is full of actors within their windows.
  bool take(std::int64_t uid, const std::string& name, store::UnixTime now);

 private:
  struct Window {
    store::UnixTime start = 0;
    std::size_t used = 0;
  };

  Limits limits_;
  std::mutex mu_;
  std::map<std::pair<std::int64_t, std::string>, Window> actors_;
};

}  // namespace touchpass::daemon
