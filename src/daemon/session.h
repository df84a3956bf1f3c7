// Session: one client connection. Reads requests one at a time, hands them to the Service and
// writes the answers. No request waits for a key: the client drives the key between a
// ceremony's begin and finish.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>

#include "core/fd.h"
#include "daemon/peer.h"
#include "daemon/service.h"
#include "ipc/frame.h"

namespace touchpass::daemon {

class Session final {
 public:
  // How long a connection may sit idle between requests; how long one whole message may take
  // to arrive once it has begun; how long the client may take to accept one answer.
  static constexpr std::chrono::seconds kIdleTimeout{60};
  static constexpr std::chrono::seconds kFrameDeadline{5};
  static constexpr std::chrono::seconds kWriteDeadline{5};

  // Takes ownership of the connected socket `fd`, whose client is `peer` (kernel credentials
  // and roles; its user name is looked up in `ids` when the session runs).
  Session(UniqueFd fd, Peer peer, Service& service, IdentityCache& ids);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Serves requests until the client closes the connection, breaks the protocol, idles too
  // long, or shutdown() is called. Never throws.
  void run();

  // Ends the session from another thread: unblocks a blocked read.
  void shutdown();

 private:
  void serve();
  // Sends the final answer (in pieces when it is large); an error when it could not be sent.
  Status answer(const Result<Outcome>& outcome);
  // Writes one message within kWriteDeadline; false (and the session closes) when the client
  // does not take it.
  bool send(std::string_view json, std::span<const std::uint8_t> secret = {});

  // Closes the connection (at the end of run(), so that a finished session holds no
  // descriptor while it waits to be reaped).
  void close_connection();

  // The connection: `fd_` is the number every read and write uses (on the session's thread
  // only); `connection_` owns it and is closed under `fd_mu_`, so that shutdown() from another
  // thread never touches a descriptor number that has been closed (and perhaps reused).
  const int fd_;
  std::mutex fd_mu_;
  UniqueFd connection_;  // guarded by fd_mu_; empty once closed
  Peer peer_;
  Service& service_;
  IdentityCache& ids_;
  ipc::FrameReader reader_;
  std::mutex write_mu_;
  std::atomic<bool> closed_{false};  // the client went away or broke the protocol
};

}  // namespace touchpass::daemon
