// The CLI's one seam to touchpassd: a channel that carries one request (with the frame's secret
// part) and brings back the final answer. LocalChannel (local_channel.h) speaks the IPC protocol
// on the daemon's Unix socket; RemoteChannel (remote_channel.h) relays the same requests through
// touchpass-web's HTTPS API (src/web/API.md). Runner and the ceremonies see only this.
#pragma once

#include <cstdint>
#include <span>

#include "cli/client.h"
#include "core/status.h"
#include "ipc/messages.h"

namespace touchpass::cli {

class DaemonChannel {
 public:
  virtual ~DaemonChannel() = default;

  // Makes sure touchpassd can be reached, before anything is asked of the user: the local
  // channel connects to the socket, the remote one asks the server's health. Repeating it once
  // it succeeded does nothing. Errors: permission_denied when the daemon may not be used;
  // io_error with a sentence naming what cannot be reached; cancelled.
  virtual Status connect() = 0;

  // Sends `request` (connecting first if needed) with `secret` (the password of `verify`, S of
  // `finish`, an invitation code; empty otherwise) and returns touchpassd's final answer: its
  // result and its secret part (an app password for issue and show). Errors: touchpassd's own (same
  // codes, printable messages); cancelled when the CLI's cancel flag is raised meanwhile; io_error
  // when the daemon (or the server) cannot be reached or does not answer, permission_denied when it
  // may not be used; protocol_error for an answer that is not one.
  virtual Result<Answer> call(const ipc::Request& request,
                              std::span<const std::uint8_t> secret = {}) = 0;
};

}  // namespace touchpass::cli
