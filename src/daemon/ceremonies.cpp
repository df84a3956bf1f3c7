#include "daemon/ceremonies.h"

#include <algorithm>

#include "core/random.h"
#include "ipc/ceremony.h"

namespace touchpass::daemon {

CeremonyTable::CeremonyTable(Limits limits, SteadyClock clock)
    : limits_(limits), clock_(std::move(clock)) {}

void CeremonyTable::drop_expired(std::chrono::steady_clock::time_point now) {
  std::erase_if(open_, [now](const auto& item) { return item.second.expires <= now; });
}

Result<Bytes> CeremonyTable::add(PendingCeremony ceremony) {
  auto id = random_bytes(ipc::kCeremonyIdBytes);
  if (!id.ok()) return id.error();
  const auto now = clock_();
  std::lock_guard lock(mu_);
  drop_expired(now);
  const auto mine = std::count_if(open_.begin(), open_.end(), [&](const auto& item) {
    return item.second.ceremony.uid == ceremony.uid &&
           item.second.ceremony.web_user == ceremony.web_user;
  });
  if (limits_.replace_oldest_when_full && open_.size() >= limits_.total && !open_.empty()) {
    open_.erase(std::min_element(open_.begin(), open_.end(), [](const auto& a, const auto& b) {
      return a.second.expires < b.second.expires;
    }));
  }
  const bool owner_full = limits_.per_uid != 0 && static_cast<std::size_t>(mine) >= limits_.per_uid;
  if (owner_full || open_.size() >= limits_.total) {
    return Error{Code::busy,
                 "Too many security-key ceremonies are open; finish or wait for one (they expire "
                 "after " +
                     std::to_string(limits_.lifetime.count()) + " s) and try again."};
  }
  open_.emplace(*id, Entry{std::move(ceremony), now + limits_.lifetime});
  return std::move(*id);
}

Result<PendingCeremony> CeremonyTable::take(const Bytes& id, uid_t uid, pid_t pid) {
  const auto now = clock_();
  std::lock_guard lock(mu_);
  drop_expired(now);
  const auto it = open_.find(id);
  if (it == open_.end()) {
    return Error{Code::not_found,
                 "This security-key ceremony has expired or was already finished; start again."};
  }
  if (it->second.ceremony.uid != uid || it->second.ceremony.pid != pid) {
    return Error{Code::permission_denied,
                 "This security-key ceremony was begun by another process."};
  }
  PendingCeremony out = std::move(it->second.ceremony);
  open_.erase(it);
  return out;
}

}  // namespace touchpass::daemon
