// touchpass-web's connection to touchpassd for one relayed request (API.md, "Relaying"): one
// connection per request, an answer within a deadline.
#pragma once

#include <chrono>
#include <filesystem>

#include "core/status.h"
#include "ipc/daemon_client.h"
#include "web/relayed_request.h"

namespace touchpass::web {

// Sends `relayed` to touchpassd at `socket` and returns its final ok answer, its pieces put
// together. Errors: the daemon's error as it sent it; io_error ("The service is not available
// right now…") when touchpassd cannot be reached or does not answer within `timeout` (the cause
// is logged), protocol_error when it answers something malformed.
Result<ipc::DaemonAnswer> relay_to_daemon(const std::filesystem::path& socket,
                                          const RelayedRequest& relayed,
                                          std::chrono::milliseconds timeout);

}  // namespace touchpass::web
