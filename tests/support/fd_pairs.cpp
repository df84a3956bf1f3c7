#include "support/fd_pairs.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace touchpass::testing {

namespace {

Error system_error(const char* call) {
  return Error{Code::io_error, std::string(call) + ": " + std::strerror(errno)};
}

}  // namespace

Result<Pipe> make_pipe(int flags) {
  int fds[2];
  if (::pipe2(fds, flags) != 0) return system_error("pipe2");
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Result<UniqueFd> input_pipe(std::string_view text) {
  auto pipe = make_pipe();
  if (!pipe.ok()) return pipe.error();
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(pipe->write.get(), text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return system_error("write");
    written += static_cast<std::size_t>(n);
  }
  return std::move(pipe->read);
}

Result<SocketPair> make_socket_pair(int type) {
  int fds[2];
  if (::socketpair(AF_UNIX, type, 0, fds) != 0) return system_error("socketpair");
  return SocketPair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace touchpass::testing
