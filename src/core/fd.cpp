#include "core/fd.h"

#include <unistd.h>

namespace touchpass {

void UniqueFd::reset(int fd) noexcept {
  if (fd < 0) fd = -1;
  if (fd_ >= 0 && fd_ != fd) ::close(fd_);
  fd_ = fd;
}

}  // namespace touchpass
