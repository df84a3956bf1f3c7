#include "daemon/usage_recorder.h"

#include <vector>

#include "daemon/log.h"

namespace touchpass::daemon {

UsageRecorder::UsageRecorder(store::Store& store, std::chrono::milliseconds interval)
    : store_(store), interval_(interval), thread_([this] { run(); }) {}

UsageRecorder::~UsageRecorder() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  flush();
}

void UsageRecorder::record(store::Usage usage) {
  std::lock_guard lock(mu_);
  auto& slot = pending_[usage.grant_id];
  if (usage.time >= slot.time) slot = std::move(usage);
}

void UsageRecorder::flush() {
  std::vector<store::Usage> batch;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, usage] : pending_) batch.push_back(std::move(usage));
    pending_.clear();
  }
  if (Status s = store_.record_usage(batch); !s.ok()) {
    log_warning("cannot record when passwords were last used: " + std::string(s.message()));
  }
}

void UsageRecorder::run() {
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
