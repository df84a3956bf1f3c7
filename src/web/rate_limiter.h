// Requests per client address: a token bucket for each address, in a table of bounded size.
// Each address may make `per_minute` requests at once, then one every 60/per_minute seconds.
// When the table is full, the address seen least recently is forgotten (it starts again with a
// full bucket), so memory stays bounded whatever addresses arrive. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace touchpass::web {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // Preconditions: per_minute >= 1, max_addresses >= 1.
  RateLimiter(int per_minute, std::size_t max_addresses);

  // Takes one request from `address`'s bucket at time `now`. Returns zero when the request may
  // go ahead, or how long the address must wait for its next request (at least 1 s).
  std::chrono::seconds take(std::string_view address, Clock::time_point now);

  // How many addresses the table holds now (at most max_addresses).
  std::size_t size() const;

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point updated;
    std::list<std::string>::iterator age;  // its place in `order_`
  };

  const double capacity_;
  const double per_second_;
  const std::size_t max_addresses_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
  std::list<std::string> order_;  // least recently seen first
};

}  // namespace touchpass::web
