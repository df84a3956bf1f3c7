#include "daemon/throttle.h"

#include <algorithm>
#include <utility>

namespace touchpass::daemon {

namespace {

constexpr std::size_t kUsersPerSource = 4;  // users remembered per source, for `list`
constexpr int kEvictionScan = 64;           // entries looked at for one that may be forgotten

}  // namespace

Throttle::Throttle(ThrottlePolicy policy, const std::vector<store::Throttle>& persisted,
                   store::UnixTime now)
    : policy_(policy) {
  for (const store::Throttle& t : persisted) {
    if (t.locked_until <= now) continue;
    Entry& e = touch(sources_, t.key);
    e.failures = t.failures;
    e.last_failure = t.last_failure;
    e.locked_until = t.locked_until;
  }
}

Throttle::Attempt::Attempt(Attempt&& other) noexcept
    : throttle_(std::exchange(other.throttle_, nullptr)),
      source_(std::move(other.source_)),
      user_(std::move(other.user_)),
      admitted_(other.admitted_),
      settled_(other.settled_) {}

Throttle::Attempt::~Attempt() {
  if (throttle_ != nullptr && admitted_ && !settled_) throttle_->release(*this);
}

Throttle::Entry& Throttle::touch(Table& table, const std::string& key) {
  const auto it = table.map.find(key);
  if (it != table.map.end()) {
    table.order.splice(table.order.end(), table.order, it->second.second);
    return it->second.first;
  }
  if (table.map.size() >= policy_.max_entries) {
    // Forget the least recently touched entry that is neither locked nor being evaluated;
    // past a short scan, the least recently touched one whatever it is.
    auto victim = table.order.begin();
    int scanned = 0;
    for (auto i = table.order.begin(); i != table.order.end() && scanned < kEvictionScan;
         ++i, ++scanned) {
      const Entry& e = table.map.at(*i).first;
      if (e.locked_until == 0 && e.in_flight == 0) {
        victim = i;
        break;
      }
    }
    const auto found = table.map.find(*victim);
    if (&table == &sources_ && found->second.first.locked_until != 0) {
      changes_[*victim] = store::Throttle{*victim, 0, 0, 0};
    }
    table.map.erase(found);
    table.order.erase(victim);
  }
  table.order.push_back(key);
  auto& slot = table.map[key];
  slot.second = std::prev(table.order.end());
  return slot.first;
}

void Throttle::expire(Entry& e, store::UnixTime now) const {
  if (e.locked_until != 0 && e.locked_until <= now) {
    e.locked_until = 0;
    e.failures = 0;
  }
  if (e.locked_until == 0 && now - e.last_failure >= policy_.lockout.count()) e.failures = 0;
}

std::chrono::milliseconds Throttle::delay_for(int failures) const {
  if (failures <= 0) return std::chrono::milliseconds(0);
  const int doublings = std::min(failures - 1, 20);
  return std::min(policy_.base_delay * (std::int64_t{1} << doublings), policy_.max_delay);
}

Throttle::Attempt Throttle::admit(const std::string& source, const std::string& user,
                                  store::UnixTime now) {
  std::unique_lock lock(mu_);
  while (true) {
    const auto it = sources_.map.find(source);
    if (it == sources_.map.end()) break;
    Entry& e = it->second.first;
    expire(e, now);
    if (e.locked_until != 0 || e.failures >= policy_.source_failures) {
      return Attempt(this, source, user, false);
    }
    if (e.failures + e.in_flight < policy_.source_failures) {
      ++e.in_flight;
      return Attempt(this, source, user, true);
    }
    // Full of attempts being evaluated: wait for one to settle, then look again.
    ++waiting_;
    settled_.wait(lock);
    --waiting_;
  }
  // A source with no failures needs no entry until it fails — except that concurrent attempts
  // must count: keep one while it is evaluated.
  ++touch(sources_, source).in_flight;
  return Attempt(this, source, user, true);
}

void Throttle::release(Attempt& attempt) {
  std::lock_guard lock(mu_);
  attempt.settled_ = true;
  const auto it = sources_.map.find(attempt.source_);
  if (it == sources_.map.end()) return;  // forgotten meanwhile
  Entry& e = it->second.first;
  if (e.in_flight > 0) --e.in_flight;
  // An entry without failures stays (it is forgotten first when room is needed), so that a
  // busy source does not cost an insertion and a removal per verification.
  if (waiting_ > 0) settled_.notify_all();
}

Throttle::Verdict Throttle::settle(Attempt& attempt, bool accepted, store::UnixTime now) {
  Verdict verdict;
  if (!attempt.admitted_ || attempt.settled_) return verdict;
  if (accepted) {
    release(attempt);
    return verdict;
  }
  std::lock_guard lock(mu_);
  attempt.settled_ = true;
  Entry& e = touch(sources_, attempt.source_);
  if (e.in_flight > 0) --e.in_flight;
  expire(e, now);
  ++e.failures;
  e.last_failure = now;
  if (std::find(e.users.begin(), e.users.end(), attempt.user_) == e.users.end() &&
      e.users.size() < kUsersPerSource) {
    e.users.push_back(attempt.user_);
  }
  if (e.failures >= policy_.source_failures && e.locked_until == 0) {
    e.locked_until = now + policy_.lockout.count();
    verdict.locked_now = true;
    verdict.locked_until = e.locked_until;
    mark_changed(attempt.source_, e);
  }
  if (waiting_ > 0) settled_.notify_all();
  Entry& u = touch(users_, attempt.user_);
  expire(u, now);
  ++u.failures;
  u.last_failure = now;
  verdict.delay = delay_for(e.failures);
  if (u.failures >= policy_.user_failures) {
    verdict.delay = std::max(verdict.delay, delay_for(u.failures - policy_.user_failures + 1));
  }
  return verdict;
}

void Throttle::mark_changed(const std::string& source, const Entry& e) {
  changes_[source] = store::Throttle{source, e.failures, e.last_failure, e.locked_until};
}

int Throttle::unlock(const std::string& source, const std::string& user) {
  std::lock_guard lock(mu_);
  int unlocked = 0;
  for (auto it = sources_.map.begin(); it != sources_.map.end();) {
    Entry& e = it->second.first;
    const bool match =
        (source.empty() && user.empty()) || (!source.empty() && it->first == source) ||
        (!user.empty() && std::find(e.users.begin(), e.users.end(), user) != e.users.end());
    if (!match) {
      ++it;
      continue;
    }
    if (e.locked_until != 0) {
      ++unlocked;
      changes_[it->first] = store::Throttle{it->first, 0, 0, 0};
    }
    e.failures = 0;
    e.locked_until = 0;
    e.users.clear();
    if (e.in_flight == 0) {
      sources_.order.erase(it->second.second);
      it = sources_.map.erase(it);
    } else {
      ++it;
    }
  }
  if (waiting_ > 0) settled_.notify_all();
  if (!user.empty()) {
    const auto u = users_.map.find(user);
    if (u != users_.map.end()) {
      users_.order.erase(u->second.second);
      users_.map.erase(u);
    }
  } else if (source.empty()) {
    users_.map.clear();
    users_.order.clear();
  }
  return unlocked;
}

std::vector<Throttle::SourceState> Throttle::locked(const std::string& user, store::UnixTime now) {
  std::lock_guard lock(mu_);
  std::vector<SourceState> out;
  for (auto& [source, slot] : sources_.map) {
    Entry& e = slot.first;
    expire(e, now);
    if (e.locked_until == 0) continue;
    if (!user.empty() && std::find(e.users.begin(), e.users.end(), user) == e.users.end()) continue;
    out.push_back({source, e.failures, e.last_failure, e.locked_until, e.users});
  }
  std::sort(out.begin(), out.end(),
            [](const SourceState& a, const SourceState& b) { return a.source < b.source; });
  return out;
}

int Throttle::user_failures(const std::string& user, store::UnixTime now) {
  std::lock_guard lock(mu_);
  const auto it = users_.map.find(user);
  if (it == users_.map.end()) return 0;
  expire(it->second.first, now);
  return it->second.first.failures;
}

std::vector<store::Throttle> Throttle::take_changes() {
  std::lock_guard lock(mu_);
  std::vector<store::Throttle> out;
  out.reserve(changes_.size());
  for (auto& [key, t] : changes_) out.push_back(std::move(t));
  changes_.clear();
  return out;
}

}  // namespace touchpass::daemon
