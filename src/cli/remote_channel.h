// The remote DaemonChannel: the same requests, relayed by touchpass-web over HTTPS (src/web/
// API.md) with libcurl. One channel is one command's connection to one server: libcurl's
// in-memory cookie engine keeps the session cookie (__Host-touchpass-session) for the life of
// the channel and nowhere else, and the channel sends the session's CSRF token
// (X-Touchpass-CSRF) from the answers that open a session. TLS: the certificate is checked
// against the system's CAs and the host name; with a pinned public key (RemoteServer::pin) the
// pin is checked instead of both (libcurl checks a pin even with peer verification off).
// Request bodies that carry a secret and every answer body are held in wiped memory.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "cli/cancel.h"
#include "cli/daemon_channel.h"
#include "cli/remote_server.h"
#include "core/secret.h"

namespace touchpass::cli {

struct RemoteTiming {
  std::chrono::milliseconds connect{10000};  // to connect, TLS handshake included
  std::chrono::milliseconds request{60000};  // a whole request, connecting included
  std::chrono::milliseconds sign_out{5000};  // signout at the end, which Ctrl-C does not stop
};

class RemoteChannel final : public DaemonChannel {
 public:
  // A channel to `server`; nothing is sent yet. `cancel` (Ctrl-C) aborts a transfer and must
  // outlive the channel. Errors: internal when libcurl cannot be set up.
  static Result<std::unique_ptr<RemoteChannel>> open(RemoteServer server, const CancelFlag& cancel,
                                                     RemoteTiming timing = {});
  ~RemoteChannel() override;
  RemoteChannel(const RemoteChannel&) = delete;
  RemoteChannel& operator=(const RemoteChannel&) = delete;

  // GET /api/v1/health. Errors: io_error "Cannot reach https://…: <why>." (no connection, TLS
  // refused, a pin that does not match, a timeout), or when touchpass-web cannot reach
  // touchpassd; protocol_error for an answer that is not touchpass-web's; cancelled.
  Status connect() override;

  // POST /api/v1/<op> with the request's JSON and `secret` (remote_json.h), with the session's
  // cookie and CSRF token once a session is open. Errors: touchpassd's (through touchpass-web,
  // same codes, printable messages); io_error "Cannot reach …" for a failed transfer;
  // cancelled; protocol_error for an answer that is not one.
  Result<Answer> call(const ipc::Request& request,
                      std::span<const std::uint8_t> secret = {}) override;

  // Whether an answer opened a session (sign-in, invited enrollment) that sign_out has not ended.
  bool in_session() const { return csrf_.has_value(); }

  // Ends the session (POST /api/v1/signout), even when the cancel flag is raised, within
  // RemoteTiming::sign_out; forgets the cookie and the CSRF token whatever the outcome. Does
  // nothing without a session. Errors: as call().
  Status sign_out();

 private:
  struct Curl;
  RemoteChannel(RemoteServer server, const CancelFlag& cancel, RemoteTiming timing,
                std::unique_ptr<Curl> curl);
  // One transfer to `path` (below the origin): POST `body` when given, else GET. Reads the API
  // answer; `cancellable`: whether the cancel flag aborts it.
  Result<Answer> transfer(const std::string& path, const SecretBytes* body, bool cancellable,
                          std::chrono::milliseconds limit);

  RemoteServer server_;
  const CancelFlag& cancel_;
  RemoteTiming timing_;
  std::unique_ptr<Curl> curl_;
  std::optional<std::string> csrf_;
  bool reached_ = false;  // connect() succeeded
};

}  // namespace touchpass::cli
