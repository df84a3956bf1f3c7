#include "cli/cancel.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <csignal>

namespace touchpass::cli {
namespace {

bool readable(int fd) {
  pollfd pfd{fd, POLLIN, 0};
  return ::poll(&pfd, 1, 0) == 1;
}

TEST(CancelFlagTest, RaisingWakesWaiters) {
  CancelFlag flag;
  ASSERT_GE(flag.wake_fd(), 0);
  EXPECT_FALSE(flag.raised());
  EXPECT_FALSE(readable(flag.wake_fd()));
  flag.raise();
  flag.raise();
  EXPECT_TRUE(flag.raised());
  EXPECT_TRUE(readable(flag.wake_fd()));
}

TEST(SignalCancelScopeTest, InterruptRaisesTheFlagAndTheOldActionReturns) {
  struct sigaction before {};
  ASSERT_EQ(::sigaction(SIGINT, nullptr, &before), 0);
  CancelFlag flag;
  {
    SignalCancelScope scope(flag);
    ASSERT_EQ(::raise(SIGINT), 0);  // would end the test program without the scope
    EXPECT_TRUE(flag.raised());
  }
  struct sigaction after {};
  ASSERT_EQ(::sigaction(SIGINT, nullptr, &after), 0);
  EXPECT_EQ(after.sa_handler, before.sa_handler);
}

}  // namespace
}  // namespace touchpass::cli
