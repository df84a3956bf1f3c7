// Throttle: brute-force protection for verification. Failed verifications are counted per key
// ("user:NAME" and "remote:ADDRESS"); each failure is answered after a growing delay, and past
// a limit the key is locked out for a while — during which even the right password fails. The
// state lives in memory for speed and is written through to the store on every change, so a
// restart does not lift a lockout. Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "store/store.h"

namespace touchpass::daemon {

struct ThrottlePolicy {
  std::chrono::milliseconds base_delay{250};  // after the first failure; doubles after each
  std::chrono::milliseconds max_delay{5000};
  int lockout_failures = 10;          // this many failures in a row lock the key …
  std::chrono::seconds lockout{900};  // … for this long; failures older than it are forgotten
};

class Throttle {
 public:
  // Loads the persisted state. `store` must outlive the throttle.
  static Result<std::unique_ptr<Throttle>> load(store::Store& store, ThrottlePolicy policy);

  // True while `key` is locked out.
  bool locked(const std::string& key, store::UnixTime now);

  struct Verdict {
    std::chrono::milliseconds delay{0};  // how long to wait before answering the failure
    bool locked_now = false;             // this failure locked the key
  };
  // Counts one failure of `key`; `lock_audit` is stored with the entry that locks it.
  Verdict fail(const std::string& key, store::UnixTime now, const store::AuditEvent& lock_audit);

  // Forgets the failures of `key` (after a success).
  void succeed(const std::string& key);

 private:
  Throttle(store::Store& store, ThrottlePolicy policy) : store_(store), policy_(policy) {}

  store::Store& store_;
  ThrottlePolicy policy_;
  std::mutex mu_;
  std::map<std::string, store::Throttle> entries_;
};

}  // namespace touchpass::daemon
