#include "daemon/peer.h"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace touchpass::daemon {

std::optional<std::string> user_name_of(uid_t uid) {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
    return std::nullopt;
  }
  return std::string(found->pw_name);
}

Result<Peer> peer_of(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred) {
    return Error{Code::io_error,
                 std::string("Cannot read the peer's credentials: ") + std::strerror(errno)};
  }
  auto name = user_name_of(cred.uid);
  if (!name) {
    return Error{Code::permission_denied,
                 "uid " + std::to_string(cred.uid) + " has no user name on this system."};
  }
  return Peer{cred.uid, cred.gid, cred.pid, std::move(*name)};
}

bool in_group(const std::string& user, gid_t gid, const std::string& group) {
  std::vector<char> buf(65536);
  struct group gr {};
  struct group* found = nullptr;
  if (::getgrnam_r(group.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
    return false;
  }
  if (found->gr_gid == gid) return true;
  int count = 64;
  std::vector<gid_t> groups(static_cast<std::size_t>(count));
  if (::getgrouplist(user.c_str(), gid, groups.data(), &count) < 0) {
    groups.resize(static_cast<std::size_t>(count));
    if (::getgrouplist(user.c_str(), gid, groups.data(), &count) < 0) return false;
  }
  for (int i = 0; i < count; ++i) {
    if (groups[static_cast<std::size_t>(i)] == found->gr_gid) return true;
  }
  return false;
}

}  // namespace touchpass::daemon
