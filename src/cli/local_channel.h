// The local DaemonChannel: touchpassd's Unix socket (PROTOCOL.md), connected on first use and
// kept for the command's later requests (a ceremony's begin and finish share it, unless the
// daemon has closed it meanwhile: then the next request connects again).
#pragma once

#include <string>

#include "cli/cancel.h"
#include "cli/daemon_channel.h"
#include "core/fd.h"

namespace touchpass::cli {

class LocalChannel final : public DaemonChannel {
 public:
  // A channel to the socket at `socket`; nothing is connected yet. `cancel` and `timing` must
  // outlive the channel.
  LocalChannel(std::string socket, const CancelFlag& cancel, const ExchangeTiming& timing)
      : socket_(std::move(socket)), cancel_(cancel), timing_(timing) {}

  // Connects to the socket if not yet connected. Errors: permission_denied, or io_error
  // "touchpassd is not running (cannot connect to PATH)."
  Status connect() override;

  // connect() — again if touchpassd has closed the connection since the last request (idle too
  // long) — then exchange() (client.h) on the connection.
  Result<Answer> call(const ipc::Request& request,
                      std::span<const std::uint8_t> secret = {}) override;

 private:
  std::string socket_;
  const CancelFlag& cancel_;
  const ExchangeTiming& timing_;
  UniqueFd connection_;
};

}  // namespace touchpass::cli
