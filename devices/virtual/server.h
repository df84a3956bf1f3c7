// VirtualTokenServer: serves one Authenticator over the normative virtual-token transport
// (DESIGN.md §4.3): a Unix SOCK_SEQPACKET socket where every message in either direction is one
// 64-byte CTAPHID report without a report-id byte. One connection is one open of the device.
// Used in-process by tests and by the touchpass-virtual-token program.
#pragma once

#include <filesystem>
#include <memory>

#include "core/status.h"
#include "devices/virtual/authenticator.h"

namespace touchpass::vtoken {

class VirtualTokenServer {
 public:
  // Binds and listens on `socket_path` (a stale socket file there is replaced; any other file is
  // an error) and serves connections on background threads until stop().
  static Result<std::unique_ptr<VirtualTokenServer>> start(
      std::filesystem::path socket_path, std::shared_ptr<Authenticator> authenticator,
      PresencePolicy presence);

  // Changes how later touch requests are answered. Thread-safe.
  void set_presence(PresencePolicy presence);

  // Closes every open connection (a token pulled out mid-operation) and returns once their
  // operations have been abandoned; keeps listening.
  void drop_connections();

  // Stops listening, closes every connection, removes the socket file, joins all threads.
  // Idempotent; also done by the destructor.
  void stop();

  const std::filesystem::path& socket_path() const;

  ~VirtualTokenServer();

 private:
  struct Impl;
  explicit VirtualTokenServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace touchpass::vtoken
