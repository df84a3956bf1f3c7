// The client end of the touchpass IPC protocol (PROTOCOL.md), shared by the touchpass CLI and
// touchpass-web: connecting to touchpassd, and the reply loop that sends one request and reads
// messages until the final answer. Every message from the daemon is untrusted: anything
// malformed or unexpected ends the exchange with a clear error.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "core/fd.h"
#include "core/secret.h"
#include "core/status.h"
#include "ipc/messages.h"

namespace touchpass::ipc {

// Connects to touchpassd's Unix stream socket at `path`, waiting at most `timeout` while its
// queue of connections is full. Errors: permission_denied when the socket may not be used;
// io_error ("touchpassd is not running (cannot connect to PATH).") when it is missing or
// refuses; busy when it did not take the connection within `timeout`; io_error for any other
// failure.
Result<UniqueFd> connect_to_daemon(const std::string& path,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(10));

// The daemon's final ok answer: its `result` (pieces of a large answer put together), and the
// secret part (an app password for issue and show; a session token for a web sign-in).
struct DaemonAnswer {
  Json result = Json::object();
  SecretBytes secret;
};

struct ExchangeOptions {
  // How often waits wake up to look at `cancelled` (in case `wake_fd` is missing).
  std::chrono::milliseconds poll_interval{250};
  // How long to wait for the answer. No request waits for a key or a person.
  std::chrono::milliseconds reply_timeout{60000};
  // Readable once the caller cancels (-1: none); `cancelled` says whether it has.
  int wake_fd = -1;
  std::function<bool()> cancelled;
};

// Sends `request` on the connected socket `fd` (with `secret` as the frame's secret part) and
// reads until the final answer. Returns the final answer when the daemon reports success.
// Errors: cancelled when options.cancelled() turns true while waiting; the daemon's error as
// it sent it (its message may hold any characters: make it printable before showing it);
// protocol_error for a malformed message or any event but `more`; io_error for a broken or
// silent connection.
Result<DaemonAnswer> exchange(int fd, const Request& request, std::span<const std::uint8_t> secret,
                              const ExchangeOptions& options);

}  // namespace touchpass::ipc
