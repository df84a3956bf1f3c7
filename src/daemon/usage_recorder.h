// UsageRecorder: remembers successful verifications (grant, time, service, remote) in memory
// and writes them to the store in one batch every few seconds and on destruction, so that a
// busy mail server's logins are not each a synchronous disk write. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "store/store.h"

namespace touchpass::daemon {

class UsageRecorder {
 public:
  UsageRecorder(store::Store& store, std::chrono::milliseconds interval);
  ~UsageRecorder();  // flushes
  UsageRecorder(const UsageRecorder&) = delete;
  UsageRecorder& operator=(const UsageRecorder&) = delete;

  void record(store::Usage usage);
  // Writes what has been recorded so far.
  void flush();

 private:
  void run();

  store::Store& store_;
  std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::map<Bytes, store::Usage> pending_;  // the latest use of each grant
  std::thread thread_;
};

}  // namespace touchpass::daemon
