// The IPC framing: whatever a peer writes on the socket, read by both readers — read_frame
// (clients: the CLI, the PAM module) and FrameReader (touchpassd, which reads ahead).
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

#include "core/fd.h"
#include "fuzz.h"
#include "ipc/frame.h"
#include "support/fd_pairs.h"

namespace {

using std::chrono::milliseconds;

// At most this many frames are read from one input.
constexpr int kMaxFrames = 8;

// A connected stream socket from which `bytes` can be read, then end of stream. The socket's
// buffer holds fuzz_max_len() bytes, so writing never blocks.
touchpass::UniqueFd stream_of(const std::uint8_t* data, std::size_t size) {
  auto pair = touchpass::testing::make_socket_pair();
  if (!pair.ok()) std::abort();
  const int buffer = 1 << 20;
  (void)::setsockopt(pair->second.get(), SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
  std::size_t written = 0;
  while (written < size) {
    const ssize_t n = ::write(pair->second.get(), data + written, size - written);
    if (n <= 0) std::abort();  // the buffer is large enough: a failure is the harness's bug
    written += static_cast<std::size_t>(n);
  }
  return std::move(pair->first);  // the writing end closes: end of stream
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // All bytes are there before the first read, so no wait is needed: limits of 0 ms.
  const touchpass::ipc::ReadLimits limits{milliseconds(0), milliseconds(0)};
  const touchpass::UniqueFd client = stream_of(data, size);
  for (int i = 0; i < kMaxFrames; ++i) {
    if (!touchpass::ipc::read_frame(client.get(), limits).ok()) break;
  }

  const touchpass::UniqueFd daemon = stream_of(data, size);
  touchpass::ipc::FrameReader reader(daemon.get());
  for (int i = 0; i < kMaxFrames; ++i) {
    auto frame = reader.read(limits);
    if (!frame.ok()) break;
    if (frame->json.size() > touchpass::ipc::kMaxJsonSize ||
        frame->secret.size() > touchpass::ipc::kMaxSecretSize) {
      std::abort();  // a reader must never hand on a frame over the limits
    }
  }
  return 0;
}

std::vector<std::string> fuzz_seeds() {
  // The 6-byte header of a frame with these part sizes.
  const auto header = [](std::size_t json, std::size_t secret) {
    return std::string{static_cast<char>(json >> 24),  static_cast<char>(json >> 16),
                       static_cast<char>(json >> 8),   static_cast<char>(json),
                       static_cast<char>(secret >> 8), static_cast<char>(secret)};
  };
  const std::string json = R"({"v":1,"op":"verify","user":"alice","service":"imap"})";
  const std::string verify = header(json.size(), 4) + json + "1234";
  const std::string head = R"({"v":1,"x":")";
  const std::string largest_json =
      head + std::string(touchpass::ipc::kMaxJsonSize - head.size() - 2, 'x') + "\"}";
  return {verify, verify + header(json.size(), 4) + json + "5678",
          std::string("\xff\xff\xff\xff\x00\x00", 6), verify.substr(0, 20),
          header(largest_json.size(), touchpass::ipc::kMaxSecretSize) + largest_json +
              std::string(touchpass::ipc::kMaxSecretSize, 's')};
}

// One frame at both limits.
std::size_t fuzz_max_len() {
  return touchpass::ipc::kHeaderSize + touchpass::ipc::kMaxJsonSize +
         touchpass::ipc::kMaxSecretSize;
}
