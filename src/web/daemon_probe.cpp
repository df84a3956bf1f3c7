#include "web/daemon_probe.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include "core/fd.h"

namespace touchpass::web {

bool daemon_reachable(const std::filesystem::path& socket) {
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  const std::string& path = socket.native();
  if (path.empty() || path.size() >= sizeof(sun.sun_path)) return false;
  std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
  const UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  return fd.valid() &&
         ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&sun), sizeof sun) == 0;
}

}  // namespace touchpass::web
