#include "daemon/throttle.h"

#include <algorithm>
#include <optional>
#include <string_view>
#include <utility>

namespace touchpass::daemon {

namespace {

constexpr std::size_t kUsersPerSource = 4;      // users remembered per source, for `list`
constexpr int kEvictionScan = 64;               // entries looked at for one that may be forgotten
constexpr std::string_view kUserKey = "user:";  // a user's count in a shared store
// With a shared store: how often a full source's reservation is asked again.
constexpr std::chrono::milliseconds kSharedPoll{10};

std::string user_key(const std::string& user) {
  return std::string(kUserKey) + user;
}

bool is_user_key(const std::string& key) {
  return key.compare(0, kUserKey.size(), kUserKey) == 0;
}

}  // namespace

Throttle::Throttle(ThrottlePolicy policy, const std::vector<store::Throttle>& persisted,
                   store::UnixTime now, store::VerificationStore* shared)
    : policy_(policy), shared_(shared) {
  for (const store::Throttle& t : persisted) {
    if (t.locked_until <= now || is_user_key(t.key)) continue;
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
      unavailable_(other.unavailable_),
      local_(other.local_),
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
    // Attempts waiting for the forgotten source's reservations find none now: wake them.
    const bool had_reservations = found->second.first.in_flight > 0;
    table.map.erase(found);
    table.order.erase(victim);
    if (had_reservations && waiting_ > 0) settled_.notify_all();
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

Error Throttle::no_verdict() {
  return Error{Code::io_error,
               "No verdict now: the failure counts in the store cannot be read, or the attempts "
               "from this address already being checked did not finish in time. Try again."};
}

Throttle::Attempt Throttle::admit(const std::string& source, const std::string& user,
                                  store::UnixTime now) {
  if (shared_ != nullptr) return admit_shared(source, user, now);
  return admit_local(source, user, now);
}

Throttle::Attempt Throttle::admit_local(const std::string& source, const std::string& user,
                                        store::UnixTime now) {
  const auto give_up = std::chrono::steady_clock::now() + policy_.wait_limit;
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
    // Full of attempts being evaluated: wait for one to settle, then look again — but not for
    // ever: a thread waiting here holds a verification connection.
    if (std::chrono::steady_clock::now() >= give_up) {
      Attempt unavailable(this, source, user, false);
      unavailable.unavailable_ = true;
      return unavailable;
    }
    ++waiting_;
    settled_.wait_until(lock, give_up);
    --waiting_;
  }
  // A source with no failures needs no entry until it fails — except that concurrent attempts
  // must count: keep one while it is evaluated.
  ++touch(sources_, source).in_flight;
  return Attempt(this, source, user, true);
}

void Throttle::release(Attempt& attempt) {
  if (shared_ != nullptr && !attempt.local_) return release_shared(attempt);
  std::lock_guard lock(mu_);
  attempt.settled_ = true;
  if (waiting_ > 0) settled_.notify_all();
  const auto it = sources_.map.find(attempt.source_);
  if (it == sources_.map.end()) return;  // forgotten meanwhile
  Entry& e = it->second.first;
  if (e.in_flight > 0) --e.in_flight;
  // An entry without failures stays (it is forgotten first when room is needed), so that a
  // busy source does not cost an insertion and a removal per verification.
}

Throttle::Verdict Throttle::settle(Attempt& attempt, bool accepted, store::UnixTime now) {
  Verdict verdict;
  if (!attempt.admitted_ || attempt.settled_) return verdict;
  if (shared_ != nullptr && !attempt.local_) return settle_shared(attempt, accepted, now);
  if (accepted) {
    release(attempt);
    return verdict;
  }
  {
    std::lock_guard lock(mu_);
    attempt.settled_ = true;
    Entry& e = touch(sources_, attempt.source_);
    if (e.in_flight > 0) --e.in_flight;
    expire(e, now);
    ++e.failures;
    e.last_failure = now;
    note_user(e, attempt.user_);
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
  }
  return verdict;
}

void Throttle::note_user(Entry& e, const std::string& user) {
  if (std::find(e.users.begin(), e.users.end(), user) == e.users.end() &&
      e.users.size() < kUsersPerSource) {
    e.users.push_back(user);
  }
}

store::FailureRule Throttle::shared_rule(bool user) const {
  store::FailureRule rule;
  rule.limit = user ? 0 : policy_.source_failures;
  rule.lockout = policy_.lockout.count();
  return rule;
}

Throttle::Attempt Throttle::admit_shared(const std::string& source, const std::string& user,
                                         store::UnixTime now) {
  const auto give_up = std::chrono::steady_clock::now() + policy_.wait_limit;
  while (true) {
    auto reserved = shared_->reserve_attempt(source, now, shared_rule(false));
    if (!reserved.ok()) break;
    if (!reserved->shared) {
      // A read-only standby: this host counts on its own until the store takes writes again.
      Attempt local = admit_local(source, user, now);
      local.local_ = true;
      return local;
    }
    if (reserved->admitted) return Attempt(this, source, user, true);
    if (reserved->state.locked_until > now) return Attempt(this, source, user, false);
    // At this host's limit though not locked (another host, with a higher limit, counted the
    // failures): refused, as admit_local does — waiting would not make room.
    if (reserved->state.failures >= policy_.source_failures &&
        now - reserved->state.last_failure < policy_.lockout.count()) {
      return Attempt(this, source, user, false);
    }
    // Full of attempts being evaluated, here or on another host: wait for one to end. A
    // settlement here wakes us at once; another host's is seen at the next look.
    if (std::chrono::steady_clock::now() >= give_up) break;
    std::unique_lock lock(mu_);
    ++waiting_;
    settled_.wait_for(lock, kSharedPoll);
    --waiting_;
  }
  // The store cannot be read, or stays full far longer than evaluations take: no verdict.
  Attempt unavailable(this, source, user, false);
  unavailable.unavailable_ = true;
  return unavailable;
}

void Throttle::release_shared(Attempt& attempt) {
  attempt.settled_ = true;
  (void)shared_->end_attempt(attempt.source_, 0, false, shared_rule(false));
  std::lock_guard lock(mu_);
  if (waiting_ > 0) settled_.notify_all();
}

Throttle::Verdict Throttle::settle_shared(Attempt& attempt, bool accepted, store::UnixTime now) {
  Verdict verdict;
  attempt.settled_ = true;
  // Counted in the store, the answer there is every host's. Should the store fail now, the
  // failure still answers as one (its delay), uncounted; its reservation is abandoned.
  const auto source = shared_->end_attempt(attempt.source_, now, !accepted, shared_rule(false));
  if (accepted) {
    std::lock_guard lock(mu_);
    if (waiting_ > 0) settled_.notify_all();
    return verdict;
  }
  const auto user = shared_->end_attempt(user_key(attempt.user_), now, true, shared_rule(true));
  std::lock_guard lock(mu_);
  note_user(touch(sources_, attempt.source_), attempt.user_);
  verdict.delay = policy_.base_delay;
  if (source.ok()) {
    // The count is atomic: exactly one host's failure reaches the limit and reports the lock.
    verdict.locked_now = source->locked_until != 0 && source->failures == policy_.source_failures;
    verdict.locked_until = source->locked_until;
    verdict.delay = delay_for(source->failures);
  }
  if (user.ok() && user->failures >= policy_.user_failures) {
    verdict.delay = std::max(verdict.delay, delay_for(user->failures - policy_.user_failures + 1));
  }
  if (waiting_ > 0) settled_.notify_all();
  return verdict;
}

void Throttle::mark_changed(const std::string& source, const Entry& e) {
  changes_[source] = store::Throttle{source, e.failures, e.last_failure, e.locked_until};
}

Result<int> Throttle::unlock(const std::string& source, const std::string& user) {
  std::vector<std::string> keys;  // in a shared store
  int unlocked = 0;
  {
    std::lock_guard lock(mu_);
    for (auto it = sources_.map.begin(); it != sources_.map.end();) {
      Entry& e = it->second.first;
      const bool match =
          (source.empty() && user.empty()) || (!source.empty() && it->first == source) ||
          (!user.empty() && std::find(e.users.begin(), e.users.end(), user) != e.users.end());
      if (!match) {
        ++it;
        continue;
      }
      if (!user.empty()) keys.push_back(it->first);
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
  }
  if (shared_ == nullptr) return unlocked;
  // Shared: what the store has locked (on any host) is lifted there, and counted there.
  if (!source.empty()) keys.push_back(source);
  if (!user.empty()) keys.push_back(user_key(user));
  auto stored = shared_->list_throttles();
  if (!stored.ok()) return stored.error();
  int unlocked_shared = 0;
  for (const store::Throttle& t : *stored) {
    const bool listed = std::find(keys.begin(), keys.end(), t.key) != keys.end();
    if (t.locked_until != 0 && !is_user_key(t.key) && (keys.empty() || listed)) {
      ++unlocked_shared;
    }
  }
  if (Status s = shared_->forget_throttles(keys); !s.ok()) return s.error();
  return unlocked_shared;
}

std::vector<Throttle::SourceState> Throttle::locked(const std::string& user, store::UnixTime now) {
  if (shared_ != nullptr) return locked_shared(user, now);
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
  if (shared_ != nullptr) {
    auto stored = shared_->throttle_state(user_key(user));
    if (!stored.ok() || now - stored->last_failure >= policy_.lockout.count()) return 0;
    return stored->failures;
  }
  std::lock_guard lock(mu_);
  const auto it = users_.map.find(user);
  if (it == users_.map.end()) return 0;
  expire(it->second.first, now);
  return it->second.first.failures;
}

std::vector<Throttle::SourceState> Throttle::locked_shared(const std::string& user,
                                                           store::UnixTime now) {
  std::vector<SourceState> out;
  auto stored = shared_->list_throttles();  // every host's locks
  if (!stored.ok()) return out;
  std::lock_guard lock(mu_);
  for (const store::Throttle& t : *stored) {
    if (is_user_key(t.key) || t.locked_until <= now) continue;
    // Who failed from where is known to the host that saw it.
    std::vector<std::string> users;
    if (const auto it = sources_.map.find(t.key); it != sources_.map.end()) {
      users = it->second.first.users;
    }
    if (!user.empty() && std::find(users.begin(), users.end(), user) == users.end()) continue;
    out.push_back({t.key, t.failures, t.last_failure, t.locked_until, std::move(users)});
  }
  return out;
}

std::vector<store::Throttle> Throttle::take_changes() {
  std::lock_guard lock(mu_);
  if (shared_ != nullptr) {
    changes_.clear();
    return {};
  }
  std::vector<store::Throttle> out;
  out.reserve(changes_.size());
  for (auto& [key, t] : changes_) out.push_back(std::move(t));
  changes_.clear();
  return out;
}

}  // namespace touchpass::daemon
