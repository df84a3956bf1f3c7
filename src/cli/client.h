// The client end of the touchpass IPC protocol (src/ipc/PROTOCOL.md): connecting to
// touchpassd, and the reply loop that sends one request and reads messages until the final
// answer.
// Every message from the daemon is untrusted: anything malformed or unexpected ends the
// exchange with a clear error.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>

#include "cli/cancel.h"
#include "cli/console.h"
#include "cli/prompt.h"
#include "core/fd.h"
#include "core/secret.h"
#include "core/status.h"
#include "ipc/messages.h"

namespace touchpass::cli {

inline constexpr std::string_view kDefaultSocket = "/run/touchpass/touchpassd.sock";

// Connects to touchpassd's Unix stream socket at `path`. Errors: permission_denied when the
// socket may not be used; io_error ("touchpassd is not running (cannot connect to PATH).") when
// it is missing or refuses, or for any other failure.
Result<UniqueFd> connect_to_daemon(const std::string& path);

// The daemon's final ok answer: its `result`, and the secret part (an app password for issue
// and show; empty otherwise).
struct Answer {
  ipc::Json result = ipc::Json::object();
  SecretBytes secret;
};

struct ExchangeTiming {
  // How often waits wake up to look at the cancel flag (in case its pipe is missing).
  std::chrono::milliseconds poll_interval{250};
  // How long to wait for the answer. No request waits for a key or a person: between a
  // ceremony's begin and finish the client drives the key itself.
  std::chrono::milliseconds reply_timeout{60000};
};

// Sends `request` on the connected socket `fd` (with `secret` as the frame's secret part: the
// password of `verify`, S of `finish`; empty otherwise) and reads until the final answer,
// assembling a large answer's pieces. Returns the final answer when the daemon reports success.
// Errors: cancelled when `cancel` is raised while waiting; the daemon's error (its message made
// printable); protocol_error for a malformed message or any event but `more`; io_error for a
// broken or silent connection.
Result<Answer> exchange(int fd, const ipc::Request& request, const CancelFlag& cancel,
                        const ExchangeTiming& timing = {},
                        std::span<const std::uint8_t> secret = {});

}  // namespace touchpass::cli
