#include "daemon/peer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <vector>

namespace touchpass::daemon {
namespace {

namespace fs = std::filesystem;

// Two real unprivileged accounts of every Debian system.
Peer peer(uid_t uid, const char* name) {
  Peer p;
  p.uid = uid;
  p.gid = uid;
  p.pid = 1;
  p.user = name;
  return p;
}
const Peer kNobody = peer(65534, "nobody");
const Peer kDaemon = peer(1, "daemon");

class MayAccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = fs::temp_directory_path() / ("touchpass-peer-" + std::to_string(::getpid()));
    std::ofstream(path_) << "x";
    ASSERT_EQ(::chown(path_.c_str(), 0, 0), 0);
  }
  void TearDown() override { fs::remove(path_); }

  void chmod_to(mode_t mode) { ASSERT_EQ(::chmod(path_.c_str(), mode), 0); }

  // Sets the file's access ACL: owner rw, `user` rw, owning group ---, mask rw, other ---.
  bool grant_user(uid_t user) {
    std::vector<std::uint8_t> blob = {2, 0, 0, 0};  // version 2, little endian
    const auto entry = [&](std::uint16_t tag, std::uint16_t perm, std::uint32_t id) {
      for (int i = 0; i < 2; ++i) blob.push_back(static_cast<std::uint8_t>(tag >> (8 * i)));
      for (int i = 0; i < 2; ++i) blob.push_back(static_cast<std::uint8_t>(perm >> (8 * i)));
      for (int i = 0; i < 4; ++i) blob.push_back(static_cast<std::uint8_t>(id >> (8 * i)));
    };
    entry(0x01, 6, 0xffffffff);  // user::rw-
    entry(0x02, 6, user);        // user:USER:rw-
    entry(0x04, 0, 0xffffffff);  // group::---
    entry(0x10, 6, 0xffffffff);  // mask::rw-
    entry(0x20, 0, 0xffffffff);  // other::---
    return ::setxattr(path_.c_str(), "system.posix_acl_access", blob.data(), blob.size(), 0) == 0;
  }

  fs::path path_;
};

TEST_F(MayAccessTest, ModeBitsDecideWithoutAnAcl) {
  chmod_to(0600);
  EXPECT_FALSE(may_access(kNobody, path_, Access::read_write));
  EXPECT_TRUE(may_access(peer(0, "root"), path_, Access::read_write));
  chmod_to(0666);
  EXPECT_TRUE(may_access(kNobody, path_, Access::read_write));
  chmod_to(0662);
  EXPECT_FALSE(may_access(kNobody, path_, Access::read_write));
  EXPECT_TRUE(may_access(kNobody, path_, Access::write));
  ASSERT_EQ(::chown(path_.c_str(), 65534, 0), 0);
  chmod_to(0600);
  EXPECT_TRUE(may_access(kNobody, path_, Access::read_write));
  EXPECT_FALSE(may_access(kDaemon, path_, Access::read_write));
}

TEST_F(MayAccessTest, AnAclEntryForTheUserGrantsAccess) {
  chmod_to(0600);
  ASSERT_TRUE(grant_user(65534)) << "the temporary directory must store POSIX ACLs";
  EXPECT_TRUE(may_access(kNobody, path_, Access::read_write));
  EXPECT_FALSE(may_access(kDaemon, path_, Access::read_write));
}

TEST_F(MayAccessTest, AMissingFileIsNotAccessible) {
  EXPECT_FALSE(may_access(kNobody, "/nonexistent/touchpass", Access::write));
}

}  // namespace
}  // namespace touchpass::daemon
