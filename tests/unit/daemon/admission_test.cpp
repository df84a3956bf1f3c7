// Connection slots: per-uid limits and a share only root and the service group may use.
#include "daemon/admission.h"

#include <gtest/gtest.h>

namespace touchpass::daemon {
namespace {

TEST(AdmissionTest, OneUserCannotTakeMoreThanItsShare) {
  Admission a({10, 3, 4});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(a.admit(1000, false));
  EXPECT_FALSE(a.admit(1000, false));
  EXPECT_TRUE(a.admit(1001, false));
  a.release(1000, false);
  EXPECT_TRUE(a.admit(1000, false));
}

TEST(AdmissionTest, UnprivilegedUsersTogetherLeaveTheReservedShare) {
  Admission a({10, 3, 4});
  int admitted = 0;
  for (uid_t uid = 1000; uid < 1010; ++uid) admitted += a.admit(uid, false);
  EXPECT_EQ(admitted, 6);  // 10 - 4 reserved
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(a.admit(0, true));
  EXPECT_FALSE(a.admit(0, true));  // the whole pool is in use
  a.release(1000, false);
  EXPECT_TRUE(a.admit(0, true));
  EXPECT_EQ(a.total(), 10);
}

TEST(AdmissionTest, PrivilegedCallersAreNotLimitedPerUid) {
  Admission a({10, 1, 5});
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(a.admit(0, true));
}

TEST(AdmissionTest, LimitsFitTheDescriptors) {
  const AdmissionLimits l = fit_to_descriptors({1024, 32, 256}, 1024, 64);
  EXPECT_EQ(l.max_clients, 960);
  EXPECT_EQ(l.reserved, 256);
  EXPECT_EQ(l.per_user, 32);
  const AdmissionLimits tiny = fit_to_descriptors({1024, 32, 900}, 100, 64);
  EXPECT_EQ(tiny.max_clients, 36);
  EXPECT_EQ(tiny.reserved, 18);
  EXPECT_EQ(tiny.per_user, 18);
}

}  // namespace
}  // namespace touchpass::daemon
