// The client end of the touchpass IPC protocol (src/ipc/PROTOCOL.md): connecting to
// touchpassd, and the reply loop that sends one request and reads messages until the final
// answer, showing events to the user and answering need-pin / need-new-pin from a PinSource.
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
  // After sending `cancel`, how long to wait for the daemon's final answer before giving up.
  std::chrono::milliseconds cancel_grace{5000};
  // Non-interactive requests only: how long to wait for the answer.
  std::chrono::milliseconds reply_timeout{60000};
};

// Sends `request` on the connected socket `fd` and reads until the final answer.
//
// Interactive requests (ipc::is_interactive) show insert-token, touch-token and progress
// events on console.err(), and answer need-pin / need-new-pin with a `pin` message whose
// secret part holds the PIN from `pins` (the JSON part never does). When `pins` fails, or when
// `cancel` is raised, a `cancel` message is sent once and the daemon's final answer is awaited
// for at most timing.cancel_grace; events after the cancel are ignored.
//
// `secret` goes into the request's secret part (the password of `verify`; empty otherwise).
//
// Returns the final answer when the daemon reports success (even if a cancel came too late to
// stop it). Errors: the PinSource's error or cancelled (when we cancelled); the daemon's error;
// protocol_error for a malformed message, an event on a non-interactive request or an unknown
// event; io_error for a broken or silent connection.
Result<Answer> exchange(int fd, const ipc::Request& request, Console& console, PinSource& pins,
                        const CancelFlag& cancel, const ExchangeTiming& timing = {},
                        std::span<const std::uint8_t> secret = {});

}  // namespace touchpass::cli
