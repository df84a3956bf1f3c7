// The one owner of a file descriptor.
#include "core/fd.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace touchpass {
namespace {

// Whether `fd` is an open descriptor of this process.
bool is_open(int fd) {
  return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

// A fresh descriptor (of /dev/null).
int open_one() {
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  return fd;
}

TEST(UniqueFdTest, EmptyByDefaultAndForANegativeDescriptor) {
  const UniqueFd none;
  EXPECT_FALSE(none.valid());
  EXPECT_EQ(none.get(), -1);
  const UniqueFd failed(-1);
  EXPECT_FALSE(failed.valid());
}

TEST(UniqueFdTest, ClosesOnDestruction) {
  const int fd = open_one();
  {
    const UniqueFd owner(fd);
    EXPECT_TRUE(owner.valid());
    EXPECT_EQ(owner.get(), fd);
    EXPECT_TRUE(is_open(fd));
  }
  EXPECT_FALSE(is_open(fd));
}

TEST(UniqueFdTest, MoveTransfersOwnership) {
  const int fd = open_one();
  UniqueFd first(fd);
  UniqueFd second(std::move(first));
  EXPECT_FALSE(first.valid());  // NOLINT(bugprone-use-after-move): the moved-from state is defined
  EXPECT_EQ(second.get(), fd);

  UniqueFd third;
  third = std::move(second);
  EXPECT_FALSE(second.valid());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(third.get(), fd);
  EXPECT_TRUE(is_open(fd));
  third.reset();
  EXPECT_FALSE(is_open(fd));
}

TEST(UniqueFdTest, MoveAssignmentClosesTheDescriptorItReplaces) {
  const int replaced = open_one();
  const int kept = open_one();
  UniqueFd target(replaced);
  target = UniqueFd(kept);
  EXPECT_FALSE(is_open(replaced));
  EXPECT_EQ(target.get(), kept);
  EXPECT_TRUE(is_open(kept));
}

TEST(UniqueFdTest, ReleaseGivesUpOwnership) {
  const int fd = open_one();
  {
    UniqueFd owner(fd);
    EXPECT_EQ(owner.release(), fd);
    EXPECT_FALSE(owner.valid());
  }
  EXPECT_TRUE(is_open(fd));
  EXPECT_EQ(::close(fd), 0);
}

TEST(UniqueFdTest, ResetClosesTheOldDescriptorAndTakesTheNew) {
  const int old_fd = open_one();
  const int new_fd = open_one();
  UniqueFd owner(old_fd);
  owner.reset(new_fd);
  EXPECT_FALSE(is_open(old_fd));
  EXPECT_EQ(owner.get(), new_fd);
  owner.reset(new_fd);  // its own descriptor again: kept open
  EXPECT_TRUE(is_open(new_fd));
  owner.reset();
  EXPECT_FALSE(owner.valid());
  EXPECT_FALSE(is_open(new_fd));
}

}  // namespace
}  // namespace touchpass
