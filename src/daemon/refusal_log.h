// RefusalLog: refused verifications and lockouts, aggregated for the audit log. A refusal is a
// counter in memory, not a write: refusals of one user from one source for one service within
// an interval become one audit entry ("4 refused from 192.0.2.7: unknown password ×3, …"), and
// an interval holds at most `max_entries` entries — the rest are summed into one — so that a
// flood of wrong passwords neither costs a disk write each nor fills the disk. Thread-safe.
#pragma once

#include <cstdint>
#include <ctime>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "store/records.h"

namespace touchpass::daemon {

class RefusalLog {
 public:
  explicit RefusalLog(std::size_t max_entries = 64) : max_entries_(max_entries) {}

  // Who refused: the verifying service's uid and name (the audit entry's actor).
  struct Actor {
    std::int64_t uid = -1;
    std::string name;
  };

  // Counts one refusal: of `action` ("verify", or "refuse" for a request the actor may not
  // make) concerning `user` and `object` (the service, or the request), from `source`.
  void refused(const Actor& actor, const std::string& action, const std::string& user,
               const std::string& object, const std::string& source, const std::string& reason,
               store::UnixTime now);
  // Records that `source` was locked until `until` after failing for `user`.
  void locked(const Actor& actor, const std::string& user, const std::string& source,
              store::UnixTime until, store::UnixTime now);

  // The audit entries for everything recorded since the last call, oldest interval first.
  std::vector<store::AuditEvent> take();

 private:
  using Key = std::tuple<std::string, std::string, std::string, std::string>;  // action, user,
                                                                               // source, object
  struct Bucket {
    Actor actor;
    std::int64_t count = 0;
    store::UnixTime first = 0, last = 0;
    std::map<std::string, std::int64_t> reasons;  // at most a few
  };
  // Takes a slot for one more entry; false when the interval is full (then it is summed).
  bool room_for_one_more() const;

  std::size_t max_entries_;
  std::mutex mu_;
  std::map<Key, Bucket> buckets_;
  std::vector<store::AuditEvent> lockouts_;
  std::int64_t overflow_count_ = 0;  // refusals and lockouts not itemized
  store::UnixTime overflow_first_ = 0, overflow_last_ = 0;
};

}  // namespace touchpass::daemon
