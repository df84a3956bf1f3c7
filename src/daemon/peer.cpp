#include "daemon/peer.h"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

namespace touchpass::daemon {

std::optional<std::string> user_name_of(uid_t uid) {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  const int rc = ::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found);
  errno = rc == ENOENT || rc == ESRCH ? 0 : rc;  // 0: no such user; otherwise the look-up failed
  if (rc != 0 || found == nullptr) return std::nullopt;
  return std::string(found->pw_name);
}

Result<Peer> credentials_of(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred) {
    return Error{Code::io_error,
                 std::string("Cannot read the peer's credentials: ") + std::strerror(errno)};
  }
  Peer peer;
  peer.uid = cred.uid;
  peer.gid = cred.gid;
  peer.pid = cred.pid;
  // The groups the peer's process had when it connected (NGROUPS_MAX is 65536; most have few).
  std::vector<gid_t> groups(64);
  for (int attempt = 0; attempt < 2; ++attempt) {
    socklen_t size = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &size) == 0) {
      groups.resize(size / sizeof(gid_t));
      peer.groups = std::move(groups);
      break;
    }
    if (errno != ERANGE) break;
    groups.resize(size / sizeof(gid_t) + 1);
  }
  return peer;
}

bool has_group(const Peer& peer, gid_t gid) {
  if (peer.gid == gid) return true;
  for (gid_t g : peer.groups)
    if (g == gid) return true;
  return false;
}

std::optional<std::string> IdentityCache::user_name(uid_t uid) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    const auto it = users_.find(uid);
    if (it != users_.end() && now - it->second.looked_up < ttl_) return it->second.value;
  }
  std::optional<std::string> name = user_name_of(uid);
  const bool failed = !name && errno != 0;
  std::lock_guard lock(mu_);
  const auto known = users_.find(uid);
  if (failed && known != users_.end() && known->second.value) {
    return known->second.value;  // out of descriptors: keep what was known
  }
  if (users_.size() >= 4096) users_.clear();  // bounded: a cache, not a record
  users_[uid] = {name, now};
  return name;
}

std::optional<gid_t> IdentityCache::group_id(const std::string& group) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    const auto it = groups_.find(group);
    if (it != groups_.end() && now - it->second.looked_up < ttl_) return it->second.value;
  }
  std::vector<char> buf(65536);
  struct group gr {};
  struct group* found = nullptr;
  const int rc = ::getgrnam_r(group.c_str(), &gr, buf.data(), buf.size(), &found);
  std::lock_guard lock(mu_);
  auto& entry = groups_[group];
  if (rc != 0 && rc != ENOENT && rc != ESRCH) return entry.value;  // keep what was known
  entry = {found ? std::optional<gid_t>(found->gr_gid) : std::nullopt, now};
  return entry.value;
}

namespace {

std::vector<gid_t> groups_of(const Peer& peer) {
  if (!peer.groups.empty()) {
    std::vector<gid_t> groups = peer.groups;
    groups.push_back(peer.gid);
    return groups;
  }
  int count = 64;
  std::vector<gid_t> groups(static_cast<std::size_t>(count));
  if (::getgrouplist(peer.user.c_str(), peer.gid, groups.data(), &count) < 0) {
    groups.resize(static_cast<std::size_t>(count));
    if (::getgrouplist(peer.user.c_str(), peer.gid, groups.data(), &count) < 0) count = 0;
  }
  groups.resize(static_cast<std::size_t>(count));
  groups.push_back(peer.gid);
  return groups;
}

bool has_gid(const std::vector<gid_t>& groups, gid_t gid) {
  for (gid_t g : groups)
    if (g == gid) return true;
  return false;
}

// One entry of the Linux xattr form of a POSIX ACL (linux/posix_acl_xattr.h).
struct AclEntry {
  std::uint16_t tag;
  std::uint16_t perm;
  std::uint32_t id;
};
constexpr std::uint32_t kAclVersion = 2;
constexpr std::uint16_t kUser = 0x02, kGroupObj = 0x04, kGroup = 0x08, kMask = 0x10, kOther = 0x20;

// The file's access ACL; empty when it has none (then the mode bits decide).
std::vector<AclEntry> read_acl(const std::string& path) {
  std::vector<std::uint8_t> buf(4096);
  const ssize_t n = ::getxattr(path.c_str(), "system.posix_acl_access", buf.data(), buf.size());
  if (n < 4) return {};
  const auto byte = [&](std::size_t i) { return std::uint32_t{buf[i]}; };
  const auto le16 = [&](std::size_t i) {
    return static_cast<std::uint16_t>(byte(i) | byte(i + 1) << 8);
  };
  const auto le32 = [&](std::size_t i) {
    return byte(i) | byte(i + 1) << 8 | byte(i + 2) << 16 | byte(i + 3) << 24;
  };
  if (le32(0) != kAclVersion) return {};
  std::vector<AclEntry> entries;
  for (std::size_t i = 4; i + 8 <= static_cast<std::size_t>(n); i += 8) {
    entries.push_back({le16(i), le16(i + 2), le32(i + 4)});
  }
  return entries;
}

}  // namespace

bool may_access(const Peer& peer, const std::string& path, Access access) {
  if (peer.uid == 0) return true;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  const unsigned want = access == Access::read_write ? 6u : 2u;  // rw- or -w-
  const auto grants = [&](unsigned perm) { return (perm & want) == want; };
  const unsigned owner = (st.st_mode >> 6) & 7u, group = (st.st_mode >> 3) & 7u,
                 other = st.st_mode & 7u;
  if (st.st_uid == peer.uid) return grants(owner);
  const std::vector<gid_t> groups = groups_of(peer);
  const std::vector<AclEntry> acl = read_acl(path);
  if (acl.empty()) return has_gid(groups, st.st_gid) ? grants(group) : grants(other);

  // POSIX.1e access check: named user, then any matching group entry, then other; named
  // entries and groups are limited by the mask.
  unsigned mask = 7;
  for (const auto& e : acl)
    if (e.tag == kMask) mask = e.perm;
  for (const auto& e : acl) {
    if (e.tag == kUser && e.id == peer.uid) return grants(e.perm & mask);
  }
  bool group_matched = false;
  for (const auto& e : acl) {
    const bool match = (e.tag == kGroupObj && has_gid(groups, st.st_gid)) ||
                       (e.tag == kGroup && has_gid(groups, static_cast<gid_t>(e.id)));
    if (!match) continue;
    group_matched = true;
    if (grants(e.perm & mask)) return true;
  }
  if (group_matched) return false;
  for (const auto& e : acl) {
    if (e.tag == kOther) return grants(e.perm);
  }
  return false;
}

}  // namespace touchpass::daemon
