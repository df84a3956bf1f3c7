// The CLI's end of the touchpass IPC protocol (src/ipc/PROTOCOL.md): the shared client
// (ipc/daemon_client.h) with the CLI's cancel flag, and the daemon's messages made printable.
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
#include "ipc/daemon_client.h"
#include "ipc/messages.h"

namespace touchpass::cli {

inline constexpr std::string_view kDefaultSocket = "/run/touchpass/touchpassd.sock";

using ipc::connect_to_daemon;

// The daemon's final ok answer (ipc/daemon_client.h).
using Answer = ipc::DaemonAnswer;

struct ExchangeTiming {
  // How often waits wake up to look at the cancel flag (in case its pipe is missing).
  std::chrono::milliseconds poll_interval{250};
  // How long to wait for the answer. No request waits for a key or a person: between a
  // ceremony's begin and finish the client drives the key itself.
  std::chrono::milliseconds reply_timeout{60000};
};

// Sends `request` on the connected socket `fd` (with `secret` as the frame's secret part: the
// password of `verify`, S of `finish`; empty otherwise) and reads until the final answer
// (ipc::exchange). Errors as ipc::exchange, with cancelled when `cancel` is raised while
// waiting, and the daemon's message made printable.
Result<Answer> exchange(int fd, const ipc::Request& request, const CancelFlag& cancel,
                        const ExchangeTiming& timing = {},
                        std::span<const std::uint8_t> secret = {});

}  // namespace touchpass::cli
