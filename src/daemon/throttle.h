// Throttle: brute-force protection for verification (README "Brute-force protection").
//
// Failures are counted per *source* (source_address.h). A source's failures are answered after
// a growing delay, and a source that reaches the limit is locked for a while: nothing from it
// is evaluated, not even a right password. Check and count are one step: the source's failures
// plus the attempts being evaluated never exceed the limit — an attempt beyond it waits for
// one of those to settle (a moment: evaluation is a look-up) and is then admitted, or refused
// if the source got locked meanwhile — so concurrent guesses cannot exceed the limit, while a
// busy source's right passwords are only queued, never refused.
//
// Failures are also counted per *user*, from any source; past a threshold the user's refusals
// are answered late — which slows a guesser spread over many sources — but a user is never
// locked: the right password from a source that is not locked is always accepted.
//
// State lives in memory, bounded (least recently failed entries are forgotten first); locks
// are handed to the store in batches (take_changes) so that a restart keeps them.
//
// With a store that several hosts share (VerificationStore::shares_throttles, e.g. PostgreSQL),
// the counts live in the store, and the check and count are one atomic step there too: each
// admission reserves its attempt in the store (reserve_attempt) and each settlement ends it,
// counting a failure (the source's, and the user's as "user:NAME"), so a guesser spread over
// several mail servers is counted once and never gets past the limit. An attempt beyond the
// limit while others are evaluated waits for them (on any host) as above, asking the store again
// every few milliseconds. When the store cannot be read, nothing is evaluated
// (Attempt::unavailable): no verdict, not a refusal. A store that takes no writes (a read-only
// standby that a verify-only host reads) cannot count: the host then counts in memory, as one
// host does. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "store/records.h"
#include "store/verification_store.h"

namespace touchpass::daemon {

struct ThrottlePolicy {
  std::chrono::milliseconds base_delay{250};  // after a failure; doubles with each further one
  std::chrono::milliseconds max_delay{5000};
  int source_failures = 10;           // failures from one source that lock it …
  std::chrono::seconds lockout{900};  // … for this long; failures older than it are forgotten
  int user_failures = 20;             // failures for one user before its refusals are slowed
  std::size_t max_entries = 16384;    // sources (and users) remembered at most
  // How long an attempt waits for a full source's reservations to settle before it gets no
  // verdict (Attempt::unavailable). Evaluations take a moment; an account-password check
  // (first_key.cpp) holds its reservation while PAM answers, which may take much longer.
  std::chrono::milliseconds wait_limit{10000};
};

class Throttle {
 public:
  // Starts with the locks `persisted` (those that ended before `now` are dropped). `shared`:
  // the store that keeps the counts when several hosts share it (it must outlive the
  // throttle); nullptr for one host.
  Throttle(ThrottlePolicy policy, const std::vector<store::Throttle>& persisted,
           store::UnixTime now, store::VerificationStore* shared = nullptr);

  // One verification attempt. While it lives and is not settled, it counts against its
  // source's limit; destroying it unsettled (the store failed) releases that.
  class Attempt {
   public:
    Attempt(Attempt&& other) noexcept;
    Attempt& operator=(Attempt&&) = delete;
    ~Attempt();
    // False when the source is locked or at its limit, or the shared store cannot be read: do
    // not evaluate.
    bool admitted() const { return admitted_; }
    // Not admitted because the shared store could not be read, or the source's reservations
    // stayed full for ThrottlePolicy::wait_limit: no verdict (unavailable), not a refusal.
    bool unavailable() const { return unavailable_; }
    const std::string& source() const { return source_; }

   private:
    friend class Throttle;
    Attempt(Throttle* throttle, std::string source, std::string user, bool admitted)
        : throttle_(throttle),
          source_(std::move(source)),
          user_(std::move(user)),
          admitted_(admitted) {}
    Throttle* throttle_;
    std::string source_;
    std::string user_;
    bool admitted_;
    bool unavailable_ = false;
    bool local_ = false;  // counted in memory although the store is shared (a standby)
    bool settled_ = false;
  };

  // The error to answer for an attempt that is unavailable().
  static Error no_verdict();
  // Checks and reserves, as one step (waiting while the source's reservations are full).
  Attempt admit(const std::string& source, const std::string& user, store::UnixTime now);
  // How many admit() calls are waiting for a source's reservations right now.
  int waiting_admissions() const {
    std::lock_guard lock(mu_);
    return waiting_;
  }

  struct Verdict {
    std::chrono::milliseconds delay{0};  // how long to wait before answering a refusal
    bool locked_now = false;             // this failure locked the source
    store::UnixTime locked_until = 0;
  };
  // Settles an admitted attempt: a failure counts (and may lock the source); an acceptance
  // only ends the reservation (it does not erase failures: a guesser who owns one password
  // cannot use it to reset the count).
  Verdict settle(Attempt& attempt, bool accepted, store::UnixTime now);
  // How long to wait before answering an attempt that was not admitted.
  std::chrono::milliseconds refusal_delay() const { return policy_.base_delay; }

  // Lifts the locks of `source` (or of every source that failed for `user`, or all when both
  // are empty) and forgets their failures; returns how many sources were unlocked. With a
  // shared store, also there (for `user`: the sources this host saw failing for the user, and
  // the user's count); the error is the store's when it cannot be changed.
  Result<int> unlock(const std::string& source, const std::string& user);

  struct SourceState {
    std::string source;
    int failures = 0;
    store::UnixTime last_failure = 0;
    store::UnixTime locked_until = 0;  // 0: not locked
    std::vector<std::string> users;    // users it failed for (the first few)
  };
  // Sources locked at `now` (only those that failed for `user`, unless it is empty).
  std::vector<SourceState> locked(const std::string& user, store::UnixTime now);
  // Failures for `user` within the lockout window before `now`.
  int user_failures(const std::string& user, store::UnixTime now);

  // Locks that changed since the last call, for the store: locked ones to keep, lifted ones
  // (locked_until == 0) to remove. None with a shared store (it has them already).
  std::vector<store::Throttle> take_changes();
  // Runs of failures that ended this long before `now` may be forgotten by the store.
  store::UnixTime forget_before(store::UnixTime now) const { return now - policy_.lockout.count(); }

 private:
  struct Entry {
    int failures = 0;
    int in_flight = 0;
    store::UnixTime last_failure = 0;
    store::UnixTime locked_until = 0;
    std::vector<std::string> users;
  };
  // A map of at most `max` entries that forgets the least recently touched first.
  struct Table {
    std::unordered_map<std::string, std::pair<Entry, std::list<std::string>::iterator>> map;
    std::list<std::string> order;  // least recently touched first
  };

  Entry& touch(Table& table, const std::string& key);
  // admit with the counts in memory (one host, or a shared store that takes no writes).
  Attempt admit_local(const std::string& source, const std::string& user, store::UnixTime now);
  // admit, settle and release with a shared store (mu_ not held).
  Attempt admit_shared(const std::string& source, const std::string& user, store::UnixTime now);
  Verdict settle_shared(Attempt& attempt, bool accepted, store::UnixTime now);
  void release_shared(Attempt& attempt);
  std::vector<SourceState> locked_shared(const std::string& user, store::UnixTime now);
  // The rule of a source's (or, `user`, a user's) count in a shared store.
  store::FailureRule shared_rule(bool user) const;
  // Remembers that `user` failed from `source` (mu_ held), for `locked`.
  void note_user(Entry& e, const std::string& user);
  // Forgets a run of failures that ended a lockout period ago, and an ended lock.
  void expire(Entry& e, store::UnixTime now) const;
  std::chrono::milliseconds delay_for(int failures) const;
  void release(Attempt& attempt);
  void mark_changed(const std::string& source, const Entry& e);

  ThrottlePolicy policy_;
  store::VerificationStore* shared_;
  mutable std::mutex mu_;
  std::condition_variable settled_;  // an attempt of a source at its limit has settled
  int waiting_ = 0;                  // attempts waiting for that
  Table sources_;
  Table users_;
  std::unordered_map<std::string, store::Throttle> changes_;
};

}  // namespace touchpass::daemon
