// Session: one client connection. Reads requests one at a time, hands them to the Service and
// writes the answers; during interactive requests it is the Interaction (events out, PIN and
// cancel in). While a token call blocks, a watcher thread reads the client's messages so that
// a cancel — or the client going away — reaches the token at once.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "client/interaction.h"
#include "daemon/peer.h"
#include "daemon/service.h"
#include "ipc/frame.h"

namespace touchpass::daemon {

class Session final : public Interaction {
 public:
  // How long a connection may sit idle between requests; how long one whole message may take
  // to arrive once it has begun; how long the client may take to accept one answer.
  static constexpr std::chrono::seconds kIdleTimeout{60};
  static constexpr std::chrono::seconds kFrameDeadline{5};
  static constexpr std::chrono::seconds kWriteDeadline{5};

  // Takes ownership of the connected socket `fd`, whose client is `peer` (kernel credentials
  // and roles; its user name is looked up in `ids` when the session runs).
  Session(int fd, Peer peer, Service& service, IdentityCache& ids);
  ~Session() override;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Serves requests until the client closes the connection, breaks the protocol, idles too
  // long, or shutdown() is called. Never throws.
  void run();

  // Ends the session from another thread: unblocks reads and cancels a running token call.
  void shutdown();

  void send_event(std::string_view event, ipc::Json fields) override;
  Result<SecretBytes> receive_pin(std::chrono::seconds timeout) override;
  void begin_watch(devices::Token* token) override;
  void end_watch() override;
  bool cancelled() const override { return cancelled_.load() || closed_.load(); }

 private:
  void serve();
  // Sends the final answer (in pieces when it is large); an error when it could not be sent.
  Status answer(const Result<Outcome>& outcome);
  void watch(devices::Token* token);
  // Writes one message within kWriteDeadline; false (and the session closes) when the client
  // does not take it.
  bool send(std::string_view json, std::span<const std::uint8_t> secret = {});

  // Closes the connection (at the end of run(), so that a finished session holds no
  // descriptor while it waits to be reaped).
  void close_connection();

  int fd_;
  std::mutex fd_mu_;  // guards closing fd_ against shutdown() from another thread
  bool fd_closed_ = false;
  int wake_fd_ = -1;  // eventfd: stops the watcher; made for the first token call
  Peer peer_;
  Service& service_;
  IdentityCache& ids_;
  ipc::FrameReader reader_;
  std::mutex write_mu_;
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> closed_{false};  // the client went away or broke the protocol
  std::thread watcher_;
};

}  // namespace touchpass::daemon
