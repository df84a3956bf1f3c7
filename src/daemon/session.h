// Session: one client connection. Reads requests one at a time, hands them to the Service and
// writes the answers; during interactive requests it is the Interaction (events out, PIN and
// cancel in). While a token call blocks, a watcher thread reads the client's messages so that
// a cancel — or the client going away — reaches the token at once.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "daemon/interaction.h"
#include "daemon/peer.h"
#include "daemon/service.h"
#include "ipc/frame.h"

namespace touchpass::daemon {

class Session final : public Interaction {
 public:
  // How long a connection may sit idle between requests, and stall inside one message.
  static constexpr std::chrono::seconds kIdleTimeout{60};
  static constexpr std::chrono::seconds kStallTimeout{5};

  // Takes ownership of the connected socket `fd`.
  Session(int fd, Service& service);
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
  void serve(const Peer& peer);
  void answer(const Result<Outcome>& outcome);
  void watch(devices::Token* token);

  int fd_;
  int wake_fd_;  // eventfd: stops the watcher
  Service& service_;
  std::mutex write_mu_;
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> closed_{false};  // the client went away or broke the protocol
  std::thread watcher_;
};

}  // namespace touchpass::daemon
