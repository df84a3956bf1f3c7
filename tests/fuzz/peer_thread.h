// The other end of a conversation a fuzz target holds with the code under test (a hostile
// token), run on one long-lived thread: creating a thread for every input costs more
// than most inputs do under ASan.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <thread>

#include "support/fd_pairs.h"

namespace touchpass::fuzzing {

// One thread that runs one job at a time, started and awaited by the fuzz target's thread.
class PeerThread {
 public:
  PeerThread() : thread_([this] { loop(); }) {}
  ~PeerThread() {
    {
      std::lock_guard lock(mutex_);
      quit_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }
  PeerThread(const PeerThread&) = delete;
  PeerThread& operator=(const PeerThread&) = delete;

  // Starts `job` on the thread. Precondition: no job is running (wait() returned).
  void start(std::function<void()> job) {
    {
      std::lock_guard lock(mutex_);
      job_ = std::move(job);
      running_ = true;
    }
    changed_.notify_all();
  }

  // Returns once the job has returned.
  void wait() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return !running_; });
  }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      changed_.wait(lock, [this] { return quit_ || (running_ && job_); });
      if (quit_) return;
      std::function<void()> job = std::move(job_);
      job_ = nullptr;
      lock.unlock();
      job();
      lock.lock();
      running_ = false;
      changed_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::function<void()> job_;
  bool running_ = false;
  bool quit_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

// A descriptor that becomes readable when raised (a pipe), to stop a peer's poll().
class StopSignal {
 public:
  StopSignal() {
    auto pipe = touchpass::testing::make_pipe(O_CLOEXEC | O_NONBLOCK);
    if (!pipe.ok()) std::abort();
    pipe_ = std::move(*pipe);
  }

  // Poll this for POLLIN.
  int fd() const { return pipe_.read.get(); }
  void raise() { (void)!::write(pipe_.write.get(), "x", 1); }
  // Lowers it again (drains the pipe).
  void clear() {
    char sink[16];
    while (::read(pipe_.read.get(), sink, sizeof sink) > 0) {
    }
  }

 private:
  touchpass::testing::Pipe pipe_;
};

}  // namespace touchpass::fuzzing
