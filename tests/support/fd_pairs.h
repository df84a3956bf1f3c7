// Pipes and connected socket pairs for tests, each end owned by a UniqueFd (core/fd.h), so that
// no test closes a descriptor by hand.
#pragma once

#include <fcntl.h>
#include <sys/socket.h>

#include <string_view>

#include "core/fd.h"
#include "core/status.h"

namespace touchpass::testing {

// A pipe: what is written to `write` comes out of `read`.
struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

// A new pipe (pipe2 with `flags`: O_CLOEXEC, O_NONBLOCK). Error io_error when the system
// refuses.
Result<Pipe> make_pipe(int flags = O_CLOEXEC);

// The read end of a pipe that holds `text` and then ends (its write end is closed): standard
// input for a command under test. Precondition: `text` fits in a pipe's buffer (64 KiB).
// Error io_error when the pipe cannot be made or written.
Result<UniqueFd> input_pipe(std::string_view text);

// Two connected sockets: what one end sends, the other receives.
struct SocketPair {
  UniqueFd first;
  UniqueFd second;
};

// A new pair of connected Unix sockets of `type` (socketpair(AF_UNIX, type), e.g.
// SOCK_SEQPACKET | SOCK_NONBLOCK). Error io_error when the system refuses.
Result<SocketPair> make_socket_pair(int type = SOCK_STREAM | SOCK_CLOEXEC);

}  // namespace touchpass::testing
