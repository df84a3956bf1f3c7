#include "daemon/verification_recorder.h"

#include <vector>

#include "daemon/log.h"

namespace touchpass::daemon {

VerificationRecorder::VerificationRecorder(store::VerificationStore& store, Throttle& throttle,
                                           RefusalLog& refusals, std::chrono::milliseconds interval,
                                           Clock clock)
    : store_(store),
      throttle_(throttle),
      refusals_(refusals),
      interval_(interval),
      clock_(std::move(clock)),
      thread_([this] { run(); }) {}

VerificationRecorder::~VerificationRecorder() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  flush();
}

void VerificationRecorder::record_use(store::Usage usage) {
  std::lock_guard lock(mu_);
  auto& slot = pending_[usage.grant_id];
  if (usage.time >= slot.time) slot = std::move(usage);
}

void VerificationRecorder::flush() {
  std::lock_guard order(flush_mu_);
  store::VerificationBatch batch;
  {
    std::lock_guard lock(mu_);
    batch.usages.reserve(pending_.size());
    for (auto& [id, usage] : pending_) batch.usages.push_back(std::move(usage));
    pending_.clear();
  }
  batch.throttles = throttle_.take_changes();
  batch.audits = refusals_.take();
  batch.now = clock_();
  batch.forget_before = throttle_.forget_before(batch.now);
  for (const store::AuditEvent& e : batch.audits) {
    log_info(e.action + " " + e.user + (e.object.empty() ? "" : " for " + e.object) + ": " +
             e.detail);
  }
  if (Status s = store_.write_verification_batch(batch); !s.ok()) {
    log_warning("cannot record what verification learned (last use, locks, refusals): " +
                std::string(s.message()));
  }
}

void VerificationRecorder::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    flush();
    lock.lock();
  }
}

}  // namespace touchpass::daemon
