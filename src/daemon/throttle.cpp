#include "daemon/throttle.h"

#include <algorithm>

#include "daemon/log.h"

namespace touchpass::daemon {

Result<std::unique_ptr<Throttle>> Throttle::load(store::Store& store, ThrottlePolicy policy) {
  auto entries = store.list_throttles();
  if (!entries.ok()) return entries.error();
  std::unique_ptr<Throttle> throttle(new Throttle(store, policy));
  for (auto& e : *entries) throttle->entries_[e.key] = std::move(e);
  return throttle;
}

bool Throttle::locked(const std::string& key, store::UnixTime now) {
  std::lock_guard lock(mu_);
  const auto it = entries_.find(key);
  return it != entries_.end() && it->second.locked_until > now;
}

Throttle::Verdict Throttle::fail(const std::string& key, store::UnixTime now,
                                 const store::AuditEvent& lock_audit) {
  std::lock_guard lock(mu_);
  store::Throttle& e = entries_[key];
  e.key = key;
  const bool stale = now - e.last_failure > policy_.lockout.count();
  if (stale || (e.locked_until != 0 && e.locked_until <= now)) {
    e.failures = 0;  // an old run of failures, or a lockout that has ended
    e.locked_until = 0;
  }
  ++e.failures;
  e.last_failure = now;
  Verdict verdict;
  const int doublings = std::min(e.failures - 1, 20);
  verdict.delay = std::min(policy_.base_delay * (1 << doublings), policy_.max_delay);
  if (e.failures >= policy_.lockout_failures && e.locked_until == 0) {
    e.locked_until = now + policy_.lockout.count();
    verdict.locked_now = true;
  }
  if (Status s = store_.put_throttle(e, verdict.locked_now ? &lock_audit : nullptr); !s.ok()) {
    log_error("cannot record a failed verification: " + std::string(s.message()));
  }
  return verdict;
}

void Throttle::succeed(const std::string& key) {
  std::lock_guard lock(mu_);
  const auto it = entries_.find(key);
  if (it == entries_.end()) return;  // the common case: nothing to write
  store::Throttle cleared{key, 0, 0, 0};
  if (Status s = store_.put_throttle(cleared, nullptr); !s.ok()) {
    log_error("cannot clear a throttle entry: " + std::string(s.message()));
  }
  entries_.erase(it);
}

}  // namespace touchpass::daemon
