#include "daemon/refusal_log.h"

namespace touchpass::daemon {

namespace {

constexpr std::size_t kReasonsPerEntry = 4;

std::string utc_time(store::UnixTime t) {
  char text[32] = {};
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  std::strftime(text, sizeof text, "%H:%M:%S", &tm);
  return text;
}

}  // namespace

bool RefusalLog::room_for_one_more() const {
  return buckets_.size() + lockouts_.size() < max_entries_;
}

void RefusalLog::refused(const Actor& actor, const std::string& action, const std::string& user,
                         const std::string& object, const std::string& source,
                         const std::string& reason, store::UnixTime now) {
  std::lock_guard lock(mu_);
  Key key{action, user, source, object};
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (!room_for_one_more()) {
      if (overflow_count_++ == 0) overflow_first_ = now;
      overflow_last_ = now;
      return;
    }
    it = buckets_.emplace(std::move(key), Bucket{actor, 0, now, now, {}}).first;
  }
  Bucket& b = it->second;
  ++b.count;
  b.last = now;
  if (b.reasons.size() < kReasonsPerEntry || b.reasons.count(reason) != 0) {
    ++b.reasons[reason];
  } else {
    ++b.reasons["other reasons"];
  }
}

void RefusalLog::locked(const Actor& actor, const std::string& user, const std::string& source,
                        store::UnixTime until, store::UnixTime now) {
  std::lock_guard lock(mu_);
  if (!room_for_one_more()) {
    if (overflow_count_++ == 0) overflow_first_ = now;
    overflow_last_ = now;
    return;
  }
  store::AuditEvent e;
  e.time = now;
  e.actor_uid = actor.uid;
  e.actor = actor.name;
  e.action = "lockout";
  e.user = user;
  e.object = source;
  e.result = "locked";
  e.detail = "too many failed verifications from " + source + "; nothing from it is accepted for " +
             std::to_string(until - now) + " s (touchpass unlock --source " + source + ")";
  lockouts_.push_back(std::move(e));
}

std::vector<store::AuditEvent> RefusalLog::take() {
  std::lock_guard lock(mu_);
  std::vector<store::AuditEvent> out;
  out.reserve(buckets_.size() + lockouts_.size() + 1);
  for (auto& [key, b] : buckets_) {
    const auto& [action, user, source, object] = key;
    store::AuditEvent e;
    e.time = b.last;
    e.actor_uid = b.actor.uid;
    e.actor = b.actor.name;
    e.action = action;
    e.user = user;
    e.object = object;
    e.result = "refused";
    std::string reasons;
    for (const auto& [reason, n] : b.reasons) {
      if (!reasons.empty()) reasons += ", ";
      reasons += reason;
      if (n > 1) reasons += " ×" + std::to_string(n);
    }
    e.detail = std::to_string(b.count) + (b.count == 1 ? " refusal" : " refusals") + " from " +
               source + " (" + utc_time(b.first) +
               (b.first == b.last ? "" : "–" + utc_time(b.last)) + " UTC): " + reasons;
    out.push_back(std::move(e));
  }
  for (auto& e : lockouts_) out.push_back(std::move(e));
  if (overflow_count_ > 0) {
    store::AuditEvent e;
    e.time = overflow_last_;
    e.action = "verify";
    e.result = "refused";
    e.detail = std::to_string(overflow_count_) +
               " more refusals and lockouts, of other users or sources, not itemized (" +
               utc_time(overflow_first_) + "–" + utc_time(overflow_last_) + " UTC)";
    out.push_back(std::move(e));
  }
  buckets_.clear();
  lockouts_.clear();
  overflow_count_ = 0;
  return out;
}

}  // namespace touchpass::daemon
