// Interaction: what an interactive request (enroll, issue, show) needs from its client while
// it runs: sending events, receiving a PIN, and forwarding a cancel (or the client going away)
// to the token in use. The session implements it over the socket; tests may implement it
// directly.
#pragma once

#include <chrono>
#include <string_view>

#include "core/secret.h"
#include "core/status.h"
#include "devices/token.h"
#include "ipc/messages.h"

namespace touchpass::client {

class Interaction {
 public:
  virtual ~Interaction() = default;

  // Sends one event (PROTOCOL.md "Events"). A failure to send is noticed by later calls.
  virtual void send_event(std::string_view event, ipc::Json fields = ipc::Json::object()) = 0;

  // Waits for the client's `pin` message. Errors: cancelled when the client cancels, goes
  // away or sends nothing within `timeout`; protocol_error for any other message.
  virtual Result<SecretBytes> receive_pin(std::chrono::seconds timeout) = 0;

  // While a watch is active, a `cancel` from the client or its disconnect makes cancelled()
  // true and, when `token` is given, calls token->cancel(). Only one watch at a time;
  // end_watch() returns when the watcher has stopped.
  virtual void begin_watch(devices::Token* token) = 0;
  virtual void end_watch() = 0;

  // True once the client cancelled or went away during this request.
  virtual bool cancelled() const = 0;
};

// Watches the client for the lifetime of the scope.
class WatchScope {
 public:
  WatchScope(Interaction& io, devices::Token* token) : io_(io) { io_.begin_watch(token); }
  ~WatchScope() { io_.end_watch(); }
  WatchScope(const WatchScope&) = delete;
  WatchScope& operator=(const WatchScope&) = delete;

 private:
  Interaction& io_;
};

}  // namespace touchpass::client
