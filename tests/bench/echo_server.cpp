// touchpass-echo-server: the bare baseline of touchpass-verify-bench. Listens on a Unix stream
// socket and answers every frame of the touchpass framing
//
//   u32 json_length (big endian) | u16 secret_length (big endian) | json | secret
//
// with the same bytes, one thread per connection. It parses nothing but the 6-byte header (to
// know where a frame ends, so answers are whole frames): one recv() usually brings a whole
// frame and one send() answers it. That is the most any daemon answering over this kind of
// socket can do on this machine.
//
// Usage: touchpass-echo-server [--refuse] SOCKET_PATH
// With --refuse it closes every connection as soon as it accepts it: the least any daemon can
// do for a connection it refuses (the baseline of a connection hog's own cost).
// It ends when its parent (the bench) ends, or on SIGTERM/SIGKILL.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "core/fd.h"

namespace {

constexpr std::size_t kHeaderSize = 6;
constexpr std::size_t kMaxJson = 64 * 1024;
constexpr std::size_t kMaxSecret = 256;
constexpr std::size_t kMaxFrame = kHeaderSize + kMaxJson + kMaxSecret;

// The total size of the frame whose header starts at `p` (at least kHeaderSize bytes), or 0
// when the header announces a frame over the protocol's limits.
std::size_t frame_size(const std::uint8_t* p) {
  const std::size_t json = (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) |
                           (std::size_t{p[2]} << 8) | std::size_t{p[3]};
  const std::size_t secret = (std::size_t{p[4]} << 8) | std::size_t{p[5]};
  if (json > kMaxJson || secret > kMaxSecret) return 0;
  return kHeaderSize + json + secret;
}

// Sends all of `n` bytes at `p`; false when the peer is gone.
bool send_all(int fd, const std::uint8_t* p, std::size_t n) {
  while (n > 0) {
    const ssize_t sent = ::send(fd, p, n, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    p += sent;
    n -= static_cast<std::size_t>(sent);
  }
  return true;
}

// Serves one connection until the peer closes it (or sends a frame over the limits), then
// closes `fd`. Every whole frame received is sent back; all whole frames of one recv() go back
// in one send().
void serve(touchpass::UniqueFd connection) {
  const int fd = connection.get();
  std::vector<std::uint8_t> buf(2 * kMaxFrame);
  std::size_t have = 0;
  while (true) {
    const ssize_t n = ::recv(fd, buf.data() + have, buf.size() - have, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    have += static_cast<std::size_t>(n);
    // The whole frames at the front of the buffer.
    std::size_t whole = 0;
    bool broken = false;
    while (have - whole >= kHeaderSize) {
      const std::size_t size = frame_size(buf.data() + whole);
      if (size == 0) {
        broken = true;
        break;
      }
      if (have - whole < size) break;
      whole += size;
    }
    if (broken) break;
    if (whole > 0) {
      if (!send_all(fd, buf.data(), whole)) break;
      std::memmove(buf.data(), buf.data() + whole, have - whole);
      have -= whole;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const bool refuse = argc == 3 && std::strcmp(argv[1], "--refuse") == 0;
  if (argc != 2 && !refuse) {
    std::fprintf(stderr, "usage: touchpass-echo-server [--refuse] SOCKET_PATH\n");
    return 2;
  }
  const char* path = argv[argc - 1];
  // Never outlive the bench that started us.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() == 1) return 1;
  ::signal(SIGPIPE, SIG_IGN);

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (std::strlen(path) >= sizeof addr.sun_path) {
    std::fprintf(stderr, "touchpass-echo-server: the socket path is too long\n");
    return 2;
  }
  std::strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
  ::unlink(path);
  const touchpass::UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const int listen_fd = listener.get();
  if (listen_fd < 0 || ::bind(listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd, SOMAXCONN) != 0 || (refuse && ::chmod(path, 0777) != 0)) {
    std::perror("touchpass-echo-server");
    return 1;
  }
  while (true) {
    touchpass::UniqueFd fd(::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
    if (!fd.valid()) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) {
        ::usleep(10000);
        continue;
      }
      std::perror("touchpass-echo-server: accept");
      return 1;
    }
    if (refuse) continue;  // closed at once
    std::thread(serve, std::move(fd)).detach();
  }
}
