#include "web/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace touchpass::web {

RateLimiter::RateLimiter(int per_minute, std::size_t max_addresses)
    : capacity_(per_minute), per_second_(per_minute / 60.0), max_addresses_(max_addresses) {}

std::chrono::seconds RateLimiter::take(std::string_view address, Clock::time_point now) {
  std::lock_guard lock(mu_);
  const std::string key(address);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_addresses_) {
      buckets_.erase(order_.front());
      order_.pop_front();
    }
    order_.push_back(key);
    it = buckets_.emplace(key, Bucket{capacity_, now, std::prev(order_.end())}).first;
  } else {
    order_.splice(order_.end(), order_, it->second.age);
  }
  Bucket& bucket = it->second;
  const double elapsed =
      std::chrono::duration<double>(std::max(now - bucket.updated, Clock::duration::zero()))
          .count();
  bucket.tokens = std::min(capacity_, bucket.tokens + elapsed * per_second_);
  bucket.updated = std::max(now, bucket.updated);
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return std::chrono::seconds(0);
  }
  const double wait = std::ceil((1.0 - bucket.tokens) / per_second_);
  return std::chrono::seconds(std::max<long long>(1, static_cast<long long>(wait)));
}

std::size_t RateLimiter::size() const {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

}  // namespace touchpass::web
