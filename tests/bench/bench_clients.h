// The clients of touchpass-verify-bench: one frame out, one frame in, over a Unix stream socket,
// with the same code for the echo baseline and for touchpassd; load generators (closed loop or
// paced) that record every request's latency; and readers of a process's CPU time and memory.
// Every socket operation has a timeout and every loop a deadline, so a stuck or dead server
// makes a run fail (counted), never hang.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/fd.h"

namespace touchpass::bench {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// `u32 json_length BE | u16 secret_length BE | json | secret` (src/ipc/PROTOCOL.md).
// Precondition: json.size() <= 65536, secret.size() <= 256.
std::string encode_frame(std::string_view json, std::string_view secret);

// A verify request for `user`/`service` from `remote` ("" = none) with `password`.
std::string verify_frame(std::string_view user, std::string_view service, std::string_view remote,
                         std::string_view password);

// One connection that sends whole frames and reads whole answer frames.
class FrameClient {
 public:
  // Connects to the Unix socket `path`; connect, send and receive each give up after
  // `timeout`. nullopt (with `error` set, if given) when the server cannot be reached.
  static std::optional<FrameClient> connect(const std::string& path,
                                            std::chrono::milliseconds timeout,
                                            std::string* error = nullptr);
  FrameClient(FrameClient&& other) noexcept = default;
  FrameClient& operator=(FrameClient&& other) noexcept = default;

  // Sends `request` (an encoded frame) with one send() and reads one whole answer frame. On
  // success the answer's bytes (header included) are in answer() until the next call. False
  // (with `error` set) on a timeout, a closed connection or a frame over the limits; the
  // connection is then unusable.
  bool round_trip(std::string_view request, std::string& error);
  std::string_view answer() const { return answer_; }
  // The answer's JSON part.
  std::string_view answer_json() const { return answer_.substr(6, json_len_); }
  int fd() const { return fd_.get(); }

 private:
  explicit FrameClient(touchpass::UniqueFd fd);
  touchpass::UniqueFd fd_;
  std::vector<char> buf_;
  std::size_t have_ = 0;      // bytes in buf_
  std::size_t consumed_ = 0;  // bytes of buf_ that belong to the previous answer
  std::string_view answer_;
  std::size_t json_len_ = 0;
};

// Decides whether an answer is the expected one; `request` is the frame that was sent.
using AnswerCheck = std::function<bool(std::string_view request, const FrameClient& client)>;
// The echo: the same bytes came back.
bool echoed(std::string_view request, const FrameClient& client);
// touchpassd accepted: the answer's JSON has "ok":true.
bool accepted(std::string_view request, const FrameClient& client);

struct LoadSpec {
  std::string socket;
  int clients = 1;
  // Request frames; client c sends frames[(c + k * clients) % size] as its k-th request, so
  // concurrent clients cycle through different ones.
  std::vector<std::string> frames;
  AnswerCheck check = accepted;
  Clock::duration duration = 5s;  // the run ends at the first of duration and max_requests
  long max_requests = 0;          // over all clients; 0: no limit
  // Requests per second of each client (paced, at evenly spaced times; a late request is not
  // made up for by a burst). 0: closed loop, each client sends as soon as it has its answer.
  double rate_per_client = 0;
  bool connect_each = false;  // a new connection for every request (as pam_touchpass does)
  std::chrono::milliseconds timeout = 10s;  // per socket operation
};

struct LoadResult {
  long requests = 0;          // answered as expected
  long failures = 0;          // wrong answer, timeout, refused or broken connection
  long connect_failures = 0;  // of the failures: the connection could not be made
  std::string first_error;
  double seconds = 0;
  std::vector<std::int64_t> latencies_ns;  // of every request answered as expected, sorted

  double rate() const { return seconds > 0 ? static_cast<double>(requests) / seconds : 0; }
  // The nearest-rank percentile (q in [0, 1]) of the latencies, in microseconds; 0 if none.
  double percentile_us(double q) const;
  double max_us() const;
  // How many requests took longer than `limit`.
  long slower_than(std::chrono::nanoseconds limit) const;
};

// Runs `spec.clients` threads, each on its own connection (or one per request), until the
// duration or request budget is spent. A client whose connection fails waits 10 ms and
// reconnects. Never throws; never runs longer than duration + one timeout.
LoadResult run_load(const LoadSpec& spec);

// The peer process of a connected Unix socket (SO_PEERCRED), or -1.
pid_t peer_pid(const std::string& socket_path);

// User + system CPU seconds the process `pid` has used (all its threads, /proc/PID/stat);
// negative if it cannot be read.
double process_cpu_seconds(pid_t pid);

// A field of /proc/PID/status in kB (e.g. "RssAnon"), or -1.
long status_kb(pid_t pid, std::string_view field);

// CPU seconds this thread has used (CLOCK_THREAD_CPUTIME_ID).
double thread_cpu_seconds();

// A random string in the app-password format: 20 Crockford base32 characters in groups of 4.
std::string random_password(std::uint64_t& state);
// A random IPv4 ("a.b.c.d") or IPv6 (8 hex groups) address.
std::string random_ipv4(std::uint64_t& state);
std::string random_ipv6(std::uint64_t& state);
// splitmix64: a fast pseudo-random 64-bit number; advances `state`.
std::uint64_t next_random(std::uint64_t& state);

}  // namespace touchpass::bench
