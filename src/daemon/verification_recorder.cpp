#include "daemon/verification_recorder.h"

#include <algorithm>
#include <iterator>
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
  take_held(batch);
  if (Status s = store_.write_verification_batch(batch); !s.ok()) {
    log_warning(
        "cannot record what verification learned (last use, locks, refusals); kept for "
        "the next try: " +
        std::string(s.message()));
    hold(std::move(batch));
  }
}

void VerificationRecorder::take_held(store::VerificationBatch& batch) {
  if (held_.usages.empty() && held_.throttles.empty() && held_.audits.empty()) return;
  // What is held is older: the batch's own usages and lock changes come after it.
  for (store::Usage& u : held_.usages) {
    const bool newer = std::any_of(batch.usages.begin(), batch.usages.end(),
                                   [&](const store::Usage& b) { return b.grant_id == u.grant_id; });
    if (!newer) batch.usages.push_back(std::move(u));
  }
  held_.throttles.insert(held_.throttles.end(), batch.throttles.begin(), batch.throttles.end());
  batch.throttles = std::move(held_.throttles);
  held_.audits.insert(held_.audits.end(), std::make_move_iterator(batch.audits.begin()),
                      std::make_move_iterator(batch.audits.end()));
  batch.audits = std::move(held_.audits);
  held_ = store::VerificationBatch{};
}

void VerificationRecorder::hold(store::VerificationBatch batch) {
  // Bounded: a store that stays unwritable for long loses the oldest audit entries (saying so).
  if (batch.audits.size() > kMaxHeldAudits) {
    const std::size_t dropped = batch.audits.size() - kMaxHeldAudits;
    batch.audits.erase(batch.audits.begin(),
                       batch.audits.begin() + static_cast<std::ptrdiff_t>(dropped));
    log_warning(std::to_string(dropped) +
                " audit entries of verification were dropped: the store could not be written "
                "for too long");
  }
  held_ = std::move(batch);
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
