#include "daemon/audit_budget.h"

namespace touchpass::daemon {

AuditBudget::AuditBudget() : limits_(Limits{}) {}

bool AuditBudget::take(std::int64_t uid, const std::string& name, store::UnixTime now) {
  const store::UnixTime window = limits_.window.count();
  std::lock_guard lock(mu_);
  auto key = std::make_pair(uid, name);
  auto it = actors_.find(key);
  if (it == actors_.end()) {
    if (actors_.size() >= limits_.actors) {
      std::erase_if(actors_, [&](const auto& item) { return now - item.second.start >= window; });
      if (actors_.size() >= limits_.actors) return false;
    }
    it = actors_.emplace(std::move(key), Window{now, 0}).first;
  }
  Window& w = it->second;
  if (now - w.start >= window || now < w.start) w = Window{now, 0};
  if (w.used >= limits_.per_window) return false;
  ++w.used;
  return true;
}

}  // namespace touchpass::daemon
