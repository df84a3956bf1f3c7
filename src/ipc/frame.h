// Framing of the touchpass IPC protocol (src/ipc/PROTOCOL.md): every message is
//
//   u32 json_length (big endian) | u16 secret_length (big endian) | json | secret
//
// The JSON part is a UTF-8 object and never holds a secret. The secret part (a PIN or an app
// password, possibly empty) is read straight into a SecretBytes, so secrets never pass through
// the JSON parser or an ordinary string. Both lengths are bounded; a message over a limit is a
// protocol error and ends the connection.
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

// Deadlines for read_frame: `idle` bounds the wait for the first byte of a message (negative:
// wait forever); `stall` bounds the wait for each further chunk once a message has begun, so a
// client that stalls mid-message cannot hold the connection.
struct ReadLimits {
  std::chrono::milliseconds idle{-1};
  std::chrono::milliseconds stall{5000};
};

// Reads one frame from the stream socket `fd`. Errors: not_found when the peer closed the
// connection cleanly before a message began; io_error when nothing arrived within `idle` or the
// read failed; invalid_argument for a broken message — over a limit, cut short by the peer, or
// stalled half-way (the stream is then out of step and must be closed).
Result<Frame> read_frame(int fd, const ReadLimits& limits);

// Writes one frame (MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE).
// Precondition: json.size() <= kMaxJsonSize and secret.size() <= kMaxSecretSize.
Status write_frame(int fd, std::string_view json, std::span<const std::uint8_t> secret = {});

}  // namespace touchpass::ipc
