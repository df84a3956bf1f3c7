// VerificationRecorder: what verification learns — the last use of each grant, locks of
// sources, aggregated refusals — written to the store in one non-synchronous batch every few
// seconds (and on flush() and destruction), so that neither a busy mail server's logins nor a
// flood of wrong passwords costs a disk write each, and no verification waits for one. A batch
// the store refuses (a database that is down, or a read-only standby) is kept and written with
// the next one (at most kMaxHeldAudits audit entries are kept). Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "daemon/refusal_log.h"
#include "daemon/throttle.h"
#include "store/verification_store.h"

namespace touchpass::daemon {

class VerificationRecorder {
 public:
  using Clock = std::function<store::UnixTime()>;

  // All references must outlive the recorder. Writes every `interval`.
  VerificationRecorder(store::VerificationStore& store, Throttle& throttle, RefusalLog& refusals,
                       std::chrono::milliseconds interval, Clock clock);
  ~VerificationRecorder();  // flushes
  VerificationRecorder(const VerificationRecorder&) = delete;
  VerificationRecorder& operator=(const VerificationRecorder&) = delete;

  // Remembers a successful verification (only the latest per grant is kept).
  void record_use(store::Usage usage);
  // Writes everything recorded so far, now (e.g. before the audit log is read).
  void flush();

 private:
  void run();
  // Adds what an earlier, failed batch held to `batch` (flush_mu_ held).
  void take_held(store::VerificationBatch& batch);
  // Keeps a batch the store refused for the next flush (flush_mu_ held).
  void hold(store::VerificationBatch batch);

  static constexpr std::size_t kMaxHeldAudits = 10000;

  store::VerificationStore& store_;
  Throttle& throttle_;
  RefusalLog& refusals_;
  std::chrono::milliseconds interval_;
  Clock clock_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::map<Bytes, store::Usage> pending_;  // the latest use of each grant
  std::mutex flush_mu_;                    // one batch at a time, in order
  store::VerificationBatch held_;          // what the store refused last time (flush_mu_)
  std::thread thread_;
};

}  // namespace touchpass::daemon
