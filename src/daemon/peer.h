// Who is on the other end of a socket, from the kernel (SO_PEERCRED), never from the client.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "core/status.h"

namespace touchpass::daemon {

struct Peer {
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  pid_t pid = 0;
  std::string user;  // the uid's name in the password database
};

// The peer of a connected Unix socket. Error permission_denied when the uid has no name (a
// user touchpass cannot name cannot own anything).
Result<Peer> peer_of(int fd);

// The name of `uid` in the password database, if any.
std::optional<std::string> user_name_of(uid_t uid);

// True when the user `user` (primary group `gid`) is a member of the group named `group`.
// A group that does not exist has no members.
bool in_group(const std::string& user, gid_t gid, const std::string& group);

// What a user needs on a token's device node or socket to use it directly.
enum class Access { read_write, write };

// True when `peer` could open `path` itself with `access`: by the file's mode bits and its
// POSIX ACL (where udev's uaccess grants the user at the seat access to a hidraw device).
// The daemon uses a token only for users who could reach it without the daemon, so that a
// user logged in from elsewhere cannot make it send PINs to someone else's key.
bool may_access(const Peer& peer, const std::string& path, Access access);

}  // namespace touchpass::daemon
