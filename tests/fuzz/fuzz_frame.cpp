// The IPC framing: whatever a peer writes on the socket.
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "ipc/frame.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return 0;
  // Small inputs fit the socket buffer; the writer then closes, so reads end (no stalls).
  const std::size_t n = size > 65536 ? 65536 : size;
  if (n > 0) (void)!::write(fds[1], data, n);
  ::close(fds[1]);
  using std::chrono::milliseconds;
  for (int i = 0; i < 8; ++i) {
    if (!touchpass::ipc::read_frame(fds[0], {milliseconds(0), milliseconds(0)}).ok()) break;
  }
  ::close(fds[0]);
  return 0;
}

std::vector<std::string> fuzz_seeds() {
  const std::string json = R"({"v":1,"op":"pin"})";
  std::string frame = {0, 0, 0, static_cast<char>(json.size()), 0, 4};
  return {frame + json + "1234", frame + json + "1234" + frame + json + "5678",
          std::string("\xff\xff\xff\xff\x00\x00", 6)};
}
