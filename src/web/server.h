// touchpass-web's HTTP(S) server: libmicrohttpd with its own threads, serving the JSON API
// (api.h), the mail clients' autoconfiguration (autoconfig_route.h) and the static files
// (static_files.h) under the configured limits: connections in
// all and per client address, an idle timeout, header memory and count, body size, and
// requests per minute per client address (rate_limiter.h). Every response carries the security
// headers; every refusal is JSON with a stable error code.
#pragma once

#include <microhttpd.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "web/api.h"
#include "web/autoconfig_route.h"
#include "web/config.h"
#include "web/listener.h"
#include "web/network_connections.h"
#include "web/phone_setup_route.h"
#include "web/rate_limiter.h"
#include "web/static_files.h"
#include "web/tls_credentials.h"

namespace touchpass::web {

// Requests with more header fields than this are refused (431).
inline constexpr int kMaxHeaderFields = 64;
// An oversized body up to this size is read and dropped before the 413 answer (server.cpp).
inline constexpr std::uint64_t kDrainLimit = 1024 * 1024;
// The memory a connection may use for its request line and headers (libmicrohttpd's pool).
inline constexpr std::size_t kConnectionMemory = 32 * 1024;
// How many client addresses the rate limiter remembers at most.
inline constexpr std::size_t kRateLimitAddresses = 16384;

class Server {
 public:
  // Starts serving on `listener` with the limits in `config`. `tls` must be given exactly when
  // config.tls(); the TLS library copies the key at start-up, and `tls` (with the key's wiped
  // buffer) is destroyed before this returns. Errors: io_error (the static directory cannot be
  // opened), internal (libmicrohttpd refused to start, e.g. a certificate it cannot use).
  static Result<std::unique_ptr<Server>> start(const Config& config, Listener listener,
                                               std::optional<TlsCredentials> tls);

  // Stops: closes the listening socket and every connection, and waits for the server's
  // threads; then removes a Unix socket's path.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

 private:
  struct Request;
  struct StopDaemon {
    void operator()(MHD_Daemon* d) const { MHD_stop_daemon(d); }
  };

  Server(const Config& config, Listener listener, StaticFiles files, AutoconfigRoute autoconfig,
         CsrfGuard csrf);

  static MHD_Result on_request(void* self, MHD_Connection* connection, const char* url,
                               const char* method, const char* version, const char* upload_data,
                               std::size_t* upload_data_size, void** request);
  // libmicrohttpd's accept policy: a client network at its connection limit gets no more.
  static MHD_Result on_accept(void* self, const sockaddr* address, socklen_t length);
  // Counts each connection against its network from its start to its close.
  static void on_connection(void* self, MHD_Connection* connection, void** socket_context,
                            MHD_ConnectionNotificationCode code);
  // The first callback of a request, with its URI as sent: creates its Request.
  static void* on_uri(void* self, const char* uri, MHD_Connection* connection);
  static void on_completed(void* self, MHD_Connection* connection, void** request,
                           MHD_RequestTerminationCode why);

  // Who sent the request (client_address.h), for rate limits and the log.
  std::string client_of(MHD_Connection* connection) const;
  // The body length the request declares (Content-Length); 0 when none or not a number.
  std::uint64_t declared_length(MHD_Connection* connection) const;
  // The first call for a request from `client`: the refusals decided from its headers alone.
  std::optional<HttpError> refusal_at_headers(MHD_Connection* connection,
                                              const std::string& client) const;
  // The answer to a whole request.
  MHD_Result answer(MHD_Connection* connection, std::string_view url, std::string_view method,
                    Request& request) const;
  // GET /setup/profile?token=T (phone_setup_route.h): the Apple profile, taken once.
  MHD_Result answer_phone_profile(MHD_Connection* connection, std::string_view method) const;

  const Config config_;
  Listener listener_;  // destroyed after daemon_: the socket's path goes last
  StaticFiles files_;
  AutoconfigRoute autoconfig_;
  PhoneSetupRoute phone_setup_;
  Api api_;
  mutable RateLimiter limiter_;
  NetworkConnections connections_;  // per client network (not behind a proxy)
  std::unique_ptr<MHD_Daemon, StopDaemon> daemon_;
};

}  // namespace touchpass::web
