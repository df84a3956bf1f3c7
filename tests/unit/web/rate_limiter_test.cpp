#include "web/rate_limiter.h"

#include <gtest/gtest.h>

namespace touchpass::web {
namespace {

using std::chrono::seconds;

const RateLimiter::Clock::time_point kStart{};

TEST(RateLimiter, AllowsABurstOfOneMinutesRequestsThenSaysHowLongToWait) {
  RateLimiter limiter(3, 100);
  EXPECT_EQ(limiter.take("192.0.2.1", kStart), seconds(0));
  EXPECT_EQ(limiter.take("192.0.2.1", kStart), seconds(0));
  EXPECT_EQ(limiter.take("192.0.2.1", kStart), seconds(0));
  EXPECT_EQ(limiter.take("192.0.2.1", kStart), seconds(20));  // one request every 20 s
  EXPECT_EQ(limiter.take("192.0.2.1", kStart + seconds(5)), seconds(15));
}

TEST(RateLimiter, RefillsOverTimeUpToTheBurst) {
  RateLimiter limiter(60, 100);
  for (int i = 0; i < 60; ++i) ASSERT_EQ(limiter.take("a", kStart), seconds(0));
  EXPECT_EQ(limiter.take("a", kStart), seconds(1));
  EXPECT_EQ(limiter.take("a", kStart + seconds(2)), seconds(0));
  EXPECT_EQ(limiter.take("a", kStart + seconds(2)), seconds(0));
  EXPECT_EQ(limiter.take("a", kStart + seconds(2)), seconds(1));
  // An hour later the bucket holds one minute's requests, not sixty.
  const auto later = kStart + seconds(3600);
  for (int i = 0; i < 60; ++i) ASSERT_EQ(limiter.take("a", later), seconds(0));
  EXPECT_GT(limiter.take("a", later), seconds(0));
}

TEST(RateLimiter, CountsEachAddressOnItsOwn) {
  RateLimiter limiter(1, 100);
  EXPECT_EQ(limiter.take("192.0.2.1", kStart), seconds(0));
  EXPECT_EQ(limiter.take("192.0.2.1", kStart), seconds(60));
  EXPECT_EQ(limiter.take("192.0.2.2", kStart), seconds(0));
}

TEST(RateLimiter, KeepsItsTableBoundedByForgettingTheLeastRecentlySeen) {
  RateLimiter limiter(1, 3);
  EXPECT_EQ(limiter.take("a", kStart), seconds(0));
  EXPECT_EQ(limiter.take("b", kStart), seconds(0));
  EXPECT_EQ(limiter.take("c", kStart), seconds(0));
  EXPECT_EQ(limiter.take("a", kStart), seconds(60));  // a is now the most recently seen
  EXPECT_EQ(limiter.take("d", kStart), seconds(0));   // forgets b
  EXPECT_EQ(limiter.size(), 3u);
  EXPECT_EQ(limiter.take("a", kStart), seconds(60));  // still remembered
  EXPECT_EQ(limiter.take("c", kStart), seconds(60));
  EXPECT_EQ(limiter.take("b", kStart), seconds(0));  // forgotten: a full bucket again
  for (int i = 0; i < 1000; ++i) (void)limiter.take("x" + std::to_string(i), kStart);
  EXPECT_EQ(limiter.size(), 3u);
}

}  // namespace
}  // namespace touchpass::web
