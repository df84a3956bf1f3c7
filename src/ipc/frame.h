// Framing of the touchpass IPC protocol (src/ipc/PROTOCOL.md): every message is
//
//   u32 json_length (big endian) | u16 secret_length (big endian) | json | secret
//
// The JSON part is a UTF-8 object and never holds a secret. The secret part (a PIN or an app
// password, possibly empty) is read into a SecretBytes, so secrets never pass through the JSON
// parser or an ordinary string. Both lengths are bounded; a message over a limit is a protocol
// error and ends the connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/secret.h"
#include "core/status.h"

namespace touchpass::ipc {

inline constexpr std::size_t kHeaderSize = 6;
inline constexpr std::size_t kMaxJsonSize = 64 * 1024;
inline constexpr std::size_t kMaxSecretSize = 256;

struct Frame {
  std::string json;
  SecretBytes secret;
};

// Deadlines for reading a frame: `idle` bounds the wait for the first byte of a message
// (negative: wait forever); `frame` bounds the whole rest of the message from its first byte —
// one deadline for the frame, not one per read — so a client that trickles bytes cannot hold
// the connection longer than that.
struct ReadLimits {
  std::chrono::milliseconds idle{-1};
  std::chrono::milliseconds frame{5000};
};

// Reads one frame from the stream socket `fd`, and nothing after it (for clients, which read
// one answer at a time). Errors: not_found when the peer closed the connection cleanly before a
// message began; io_error when nothing arrived within `idle` or the read failed;
// invalid_argument for a broken message — over a limit, cut short by the peer, or not complete
// within `frame` (the stream is then out of step and must be closed).
Result<Frame> read_frame(int fd, const ReadLimits& limits);

// Reads one frame from the stream socket `fd` (blocking or not), and nothing after it, with one
// deadline for all of it, its first byte included: for a client that bounds its whole wait for
// an answer (the PAM module). Errors as read_frame; io_error when no byte arrived by `deadline`,
// invalid_argument when the message began but was not complete by then.
Result<Frame> read_frame_by(int fd, std::chrono::steady_clock::time_point deadline);

// FrameReader: reads frames from one connection with as few system calls as it can — one
// poll and one recv for a message that arrived whole — by reading ahead into a small locked
// buffer that is wiped as it is consumed (a secret part may pass through it). Errors as
// read_frame. Not thread-safe; one reader per connection, used for every read on it.
class FrameReader {
 public:
  // Reads from `fd`, which the caller owns and keeps open while the reader is used. With
  // `blocking_waits`, `fd` is a blocking socket whose SO_RCVTIMEO is short (a second or so):
  // the wait for a message's first byte is then a blocking recv (one system call instead of a
  // poll and a recv), repeated until `idle` has passed.
  explicit FrameReader(int fd, bool blocking_waits = false);

  // Reads the next frame within `limits`.
  Result<Frame> read(const ReadLimits& limits);

  // True when bytes of a next message have already been read ahead.
  bool has_buffered() const { return end_ > start_; }

 private:
  enum class Fill { more, closed, timed_out, failed };
  // Receives more bytes into the buffer before `deadline` (none: wait forever); `poll_first`
  // when data is not expected to be waiting already.
  Fill fill(std::chrono::steady_clock::time_point deadline, bool bounded, bool poll_first);
  // Copies up to `size` buffered bytes to `out` and consumes them; returns how many.
  std::size_t take(std::uint8_t* out, std::size_t size);

  int fd_;
  bool blocking_waits_;
  SecretBytes buffer_;
  std::size_t start_ = 0;  // first unconsumed byte
  std::size_t end_ = 0;    // one past the last received byte
};

// Writes one frame (MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE), blocking as long as
// the peer needs to take it. Precondition: json.size() <= kMaxJsonSize and secret.size() <=
// kMaxSecretSize (otherwise error internal, nothing written).
Status write_frame(int fd, std::string_view json, std::span<const std::uint8_t> secret = {});

// As write_frame, but the whole frame must be taken by the peer within `timeout`: a peer that
// does not read its answers cannot hold the writer (error io_error; the stream is then out of
// step and must be closed).
Status write_frame(int fd, std::string_view json, std::span<const std::uint8_t> secret,
                   std::chrono::milliseconds timeout);

}  // namespace touchpass::ipc
