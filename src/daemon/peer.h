// Who is on the other end of a socket, from the kernel (SO_PEERCRED), never from the client.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace touchpass::daemon {

struct Peer {
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  pid_t pid = 0;
  std::string user;           // the uid's name in the password database
  std::vector<gid_t> groups;  // the process's supplementary groups, from the kernel
  bool verifier = false;      // root or a member of the service group: may verify passwords
  bool admin = false;         // root or a member of the admin group
  bool token_user = false;    // root or a member of the token group (YubiKey OTP tokens)
  bool gateway = false;       // a member of the gateway group: touchpass-web (DESIGN.md §2)
  // A web user acting through the gateway after signing in: `user` is theirs, uid and pid the
  // gateway's. Never an admin, a verifier or a token user.
  bool via_web = false;
};

// The kernel's credentials of the peer of a connected Unix socket (SO_PEERCRED and
// SO_PEERGROUPS): uid, gid, pid and groups, with no look-up in the user database, so it works
// under descriptor pressure. `user`, `verifier` and `admin` are left for the caller.
Result<Peer> credentials_of(int fd);

// True when `peer`'s process has `gid` as its primary or a supplementary group.
bool has_group(const Peer& peer, gid_t gid);

// Names of users and ids of groups, looked up in the system's databases and remembered for a
// while, so that a busy socket does not ask NSS on every connection and a look-up that fails
// for lack of descriptors falls back on what was known. Thread-safe.
class IdentityCache {
 public:
  explicit IdentityCache(std::chrono::seconds ttl = std::chrono::seconds(60)) : ttl_(ttl) {}

  // The name of `uid`, if it has one.
  std::optional<std::string> user_name(uid_t uid);
  // The id of the group named `group`, if it exists.
  std::optional<gid_t> group_id(const std::string& group);

 private:
  template <class T>
  struct Entry {
    std::optional<T> value;
    std::chrono::steady_clock::time_point looked_up;
  };
  std::chrono::seconds ttl_;
  std::mutex mu_;
  std::map<uid_t, Entry<std::string>> users_;
  std::map<std::string, Entry<gid_t>> groups_;
};

// The name of `uid` in the password database, if any (uncached). When there is none, errno is
// 0 if the user does not exist and the look-up's error otherwise.
std::optional<std::string> user_name_of(uid_t uid);

// What a user needs on a token's device node or socket to use it directly.
enum class Access { read_write, write };

// True when `peer` could open `path` itself with `access`: by the file's mode bits and its
// POSIX ACL (where udev's uaccess grants the user at the seat access to a hidraw device).
// The daemon uses a token only for users who could reach it without the daemon, so that a
// user logged in from elsewhere cannot make it send PINs to someone else's key.
bool may_access(const Peer& peer, const std::string& path, Access access);

}  // namespace touchpass::daemon
