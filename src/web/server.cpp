#include "web/server.h"

#include <openssl/crypto.h>
#include <strings.h>

#include <algorithm>
#include <charconv>
#include <cstdarg>
#include <cstdio>
#include <string>

#include "web/apple_profile.h"
#include "web/client_address.h"
#include "web/daemon_probe.h"
#include "web/log.h"
#include "web/mail_autoconfig.h"
#include "web/response.h"
#include "web/session_cookie.h"

namespace touchpass::web {

// What the server keeps of one request while its body arrives.
// Made when the request line arrives (on_uri), freed when the request ends (on_completed).
struct Server::Request {
  bool nul_in_path = false;         // the URI encodes a NUL byte (%00), which would cut it short
  bool headers_checked = false;     // refusal_at_headers() has let it through
  std::optional<std::string> body;  // set once a body byte arrives
  bool too_large = false;           // the body passed max_body_bytes: no more is kept
};

namespace {

// Appends `data` to a request body, which may hold secrets (S, invitation codes, passwords):
// when the body must grow, its bytes move to a larger buffer and the old one is wiped, so that
// no freed buffer keeps a piece of them.
void append_wiping(std::string& body, std::string_view data) {
  if (body.size() + data.size() > body.capacity()) {
    std::string grown;
    grown.reserve(std::max(2 * body.capacity(), body.size() + data.size()));
    grown.append(body);
    OPENSSL_cleanse(body.data(), body.size());
    body.swap(grown);
  }
  body.append(data);
}

void wipe_body(std::optional<std::string>& body) {
  if (body) OPENSSL_cleanse(body->data(), body->size());
  body.reset();
}

std::string_view header(MHD_Connection* connection, const char* name) {
  const char* value = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, name);
  return value ? std::string_view(value) : std::string_view();
}

// The value of the last `name` header line; empty when there is none. A header that may come
// in several lines and whose last word counts (X-Forwarded-For) is read with this.
std::string_view last_header_line(MHD_Connection* connection, const char* name) {
  struct Search {
    const char* name;
    const char* value = nullptr;
  } search{name};
  MHD_get_connection_values(
      connection, MHD_HEADER_KIND,
      [](void* cls, MHD_ValueKind, const char* key, const char* value) {
        auto* s = static_cast<Search*>(cls);
        if (key != nullptr && value != nullptr && ::strcasecmp(key, s->name) == 0) s->value = value;
        return MHD_YES;
      },
      &search);
  return search.value ? std::string_view(search.value) : std::string_view();
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
// libmicrohttpd's own messages (TLS handshakes that fail, sockets it cannot use): no secrets.
void log_library(void*, const char* format, va_list args) {
  char text[512];
  std::vsnprintf(text, sizeof text, format, args);
  log(LogLevel::info, std::string("http: ") + text);
}
#pragma GCC diagnostic pop

}  // namespace

Server::Server(const Config& config, Listener listener, StaticFiles files,
               AutoconfigRoute autoconfig, CsrfGuard csrf)
    : config_(config),
      listener_(std::move(listener)),
      files_(std::move(files)),
      autoconfig_(std::move(autoconfig)),
      phone_setup_(config.mail, config.daemon_socket,
                   std::chrono::duration_cast<std::chrono::milliseconds>(config.daemon_timeout)),
      api_(ApiSettings{config.daemon_socket, config.origin,
                       std::chrono::duration_cast<std::chrono::milliseconds>(config.daemon_timeout),
                       config.mail},
           std::move(csrf), [socket = config.daemon_socket] { return daemon_reachable(socket); }),
      limiter_(config.rate_limit_per_minute, kRateLimitAddresses),
      // Behind a trusted proxy (or on a Unix socket) every connection is the proxy's: a limit
      // per network would be one limit for everybody.
      connections_(config.trusted_proxy.empty() && config.listen.kind == ListenAddress::Kind::tcp
                       ? static_cast<std::size_t>(config.max_connections_per_address)
                       : 0) {}

MHD_Result Server::on_accept(void* self, const sockaddr* address, socklen_t) {
  const auto& server = *static_cast<const Server*>(self);
  return server.connections_.room_for(NetworkConnections::network_of(peer_address(address)))
             ? MHD_YES
             : MHD_NO;
}

void Server::on_connection(void* self, MHD_Connection* connection, void** socket_context,
                           MHD_ConnectionNotificationCode code) {
  auto& server = *static_cast<Server*>(self);
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    const MHD_ConnectionInfo* info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    auto network = std::make_unique<std::string>(
        NetworkConnections::network_of(peer_address(info ? info->client_addr : nullptr)));
    server.connections_.opened(*network);
    *socket_context = network.release();
    return;
  }
  std::unique_ptr<std::string> network(static_cast<std::string*>(*socket_context));
  *socket_context = nullptr;
  if (network) server.connections_.closed(*network);
}

Server::~Server() = default;

Result<std::unique_ptr<Server>> Server::start(const Config& config, Listener listener,
                                              std::optional<TlsCredentials> tls) {
  if (config.tls() != tls.has_value()) {
    return Error{Code::internal, "The TLS credentials do not match the configuration."};
  }
  auto files = StaticFiles::open(config.static_dir);
  if (!files.ok()) return files.error();
  auto autoconfig = AutoconfigRoute::create(config.mail);
  if (!autoconfig.ok()) return autoconfig.error();
  auto csrf = CsrfGuard::create();
  if (!csrf.ok()) return csrf.error();
  std::unique_ptr<Server> server(new Server(config, std::move(listener), std::move(*files),
                                            std::move(*autoconfig), std::move(*csrf)));

  // A thread for each connection (at most max_connections): a request relayed to touchpassd
  // holds its connection's thread until the answer (daemon_timeout at most) — touchpassd
  // answers a refused account password late on purpose — and every other connection goes on.
  unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
                   MHD_USE_ERROR_LOG;
  if (tls) flags |= MHD_USE_TLS;
  const int listen_fd = server->listener_.release_fd();
  std::vector<MHD_OptionItem> options = {
      {MHD_OPTION_EXTERNAL_LOGGER, reinterpret_cast<intptr_t>(&log_library), nullptr},
      {MHD_OPTION_LISTEN_SOCKET, listen_fd, nullptr},
      {MHD_OPTION_CONNECTION_LIMIT, config.max_connections, nullptr},
      {MHD_OPTION_NOTIFY_CONNECTION, reinterpret_cast<intptr_t>(&Server::on_connection),
       server.get()},
      {MHD_OPTION_CONNECTION_TIMEOUT, static_cast<intptr_t>(config.request_timeout.count()),
       nullptr},
      {MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<intptr_t>(kConnectionMemory), nullptr},
      {MHD_OPTION_STRICT_FOR_CLIENT, 1, nullptr},
      {MHD_OPTION_URI_LOG_CALLBACK, reinterpret_cast<intptr_t>(&Server::on_uri), nullptr},
      {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&Server::on_completed),
       server.get()},
  };
  if (tls) {
    options.push_back({MHD_OPTION_HTTPS_MEM_CERT, 0, tls->certificate_pem.data()});
    options.push_back({MHD_OPTION_HTTPS_MEM_KEY, 0, const_cast<char*>(tls->key_c_str())});
    options.push_back({MHD_OPTION_HTTPS_PRIORITIES, 0,
                       const_cast<char*>("NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2")});
  }
  options.push_back({MHD_OPTION_END, 0, nullptr});
  server->daemon_.reset(MHD_start_daemon(flags, 0, &Server::on_accept, server.get(),
                                         &Server::on_request, server.get(), MHD_OPTION_ARRAY,
                                         options.data(), MHD_OPTION_END));
  tls.reset();  // GnuTLS holds its own copy now: wipe ours
  if (!server->daemon_) {
    return Error{Code::internal,
                 "The HTTP server did not start (the log above says why; with TLS, check that "
                 "the certificate and the key belong together)."};
  }
  return server;
}

std::string Server::client_of(MHD_Connection* connection) const {
  const MHD_ConnectionInfo* info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  return client_address(peer_address(info ? info->client_addr : nullptr),
                        last_header_line(connection, "X-Forwarded-For"), config_.trusted_proxy);
}

std::uint64_t Server::declared_length(MHD_Connection* connection) const {
  const std::string_view length = header(connection, "Content-Length");
  std::uint64_t declared = 0;
  const auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), declared);
  return !length.empty() && ec == std::errc() && end == length.data() + length.size() ? declared
                                                                                      : 0;
}

std::optional<HttpError> Server::refusal_at_headers(MHD_Connection* connection,
                                                    const std::string& client) const {
  if (MHD_get_connection_values(connection, MHD_HEADER_KIND, nullptr, nullptr) > kMaxHeaderFields) {
    return HttpError{
        431,
        Error{Code::protocol_error,
              "The request has more than " + std::to_string(kMaxHeaderFields) + " header fields."},
        std::chrono::seconds(0)};
  }
  const auto wait =
      limiter_.take(NetworkConnections::network_of(client), RateLimiter::Clock::now());
  if (wait.count() > 0) {
    return HttpError{429,
                     Error{Code::busy, "Too many requests from your address; try again in " +
                                           std::to_string(wait.count()) + " seconds."},
                     wait};
  }
  // A body over the limit is answered at once only when the client waits for "100 Continue" or
  // the body is too large to read through; otherwise it is read and dropped (on_request) and
  // answered at its end: closing a connection on unread data resets it, and the client may
  // lose the answer.
  const std::uint64_t declared = declared_length(connection);
  const bool waits = header(connection, "Expect") == "100-continue";
  if (declared > config_.max_body_bytes && (waits || declared > kDrainLimit)) {
    return HttpError{
        413,
        Error{Code::protocol_error, "The request body is larger than " +
                                        std::to_string(config_.max_body_bytes) + " bytes."},
        std::chrono::seconds(0)};
  }
  return std::nullopt;
}

MHD_Result Server::on_request(void* self, MHD_Connection* connection, const char* url,
                              const char* method, const char*, const char* upload_data,
                              std::size_t* upload_data_size, void** request) {
  auto& server = *static_cast<Server*>(self);
  const bool api = Api::owns(url);
  auto& state = *static_cast<Request*>(*request);
  if (!state.headers_checked) {
    const std::string client = server.client_of(connection);
    std::optional<HttpError> refusal;
    if (state.nul_in_path) {
      refusal = HttpError{400, Error{Code::protocol_error, "The request path holds a NUL byte."},
                          std::chrono::seconds(0)};
    } else {
      refusal = server.refusal_at_headers(connection, client);
    }
    if (refusal) {
      if (refusal->status != 429) {
        log(LogLevel::info, "refused a request from " + client + ": " +
                                std::to_string(refusal->status) + " " +
                                std::string(code_name(refusal->error.code)));
      }
      return Response::error(*refusal, server.config_.tls(), api).queue(connection);
    }
    state.headers_checked = true;
    state.too_large = server.declared_length(connection) > server.config_.max_body_bytes;
    return MHD_YES;
  }
  if (*upload_data_size > 0) {
    const std::size_t kept = state.body ? state.body->size() : 0;
    if (state.too_large || kept + *upload_data_size > server.config_.max_body_bytes) {
      state.too_large = true;  // keep reading (and dropping) it, to answer at its end
      wipe_body(state.body);
    } else {
      if (!state.body) state.body.emplace();
      append_wiping(*state.body, std::string_view(upload_data, *upload_data_size));
    }
    *upload_data_size = 0;
    return MHD_YES;
  }
  return server.answer(connection, url, method, state);
}

MHD_Result Server::answer(MHD_Connection* connection, std::string_view url, std::string_view method,
                          Request& request) const {
  const bool tls = config_.tls();
  if (request.too_large) {
    return Response::error(HttpError{413,
                                     Error{Code::protocol_error,
                                           "The request body is larger than " +
                                               std::to_string(config_.max_body_bytes) + " bytes."},
                                     std::chrono::seconds(0)},
                           tls, Api::owns(url))
        .queue(connection);
  }
  if (Api::owns(url)) {
    const char* cookie =
        MHD_lookup_connection_value(connection, MHD_COOKIE_KIND, kSessionCookie.data());
    ApiAnswer a = api_.handle(ApiRequest{method, url, &request.body,
                                         cookie ? std::string_view(cookie) : std::string_view(),
                                         header(connection, "X-Touchpass-CSRF"),
                                         header(connection, "Origin"), client_of(connection)});
    Response response = Response::json(a.status, a.body, tls, true);
    if (response.valid() && !a.allow.empty()) response.add_header("Allow", a.allow);
    for (auto& [name, value] : a.headers) {
      if (response.valid()) response.add_header(name, value);
      OPENSSL_cleanse(value.data(), value.size());  // a Set-Cookie holds the session token
    }
    OPENSSL_cleanse(a.body.data(), a.body.size());  // it may hold a password
    return response.queue(connection);
  }
  if (method != "GET" && method != "HEAD") {
    Response response =
        Response::error(HttpError{405, Error{Code::protocol_error, "Pages take GET only."},
                                  std::chrono::seconds(0)},
                        tls, false);
    if (response.valid()) response.add_header("Allow", "GET, HEAD");
    return response.queue(connection);
  }
  if (PhoneSetupRoute::owns(url)) return answer_phone_profile(connection, method);
  if (AutoconfigRoute::owns(url)) {
    const char* address =
        MHD_lookup_connection_value(connection, MHD_GET_ARGUMENT_KIND, "emailaddress");
    auto document =
        autoconfig_.document_for(address ? std::optional<std::string_view>(address) : std::nullopt);
    if (!document.ok()) {
      return Response::error(http_error(document.error()), tls, false).queue(connection);
    }
    return Response::document(*document, kMailAutoconfigContentType, tls).queue(connection);
  }
  auto file = files_.find(url);
  if (!file.ok()) return Response::error(http_error(file.error()), tls, false).queue(connection);
  return Response::file(std::move(*file), tls).queue(connection);
}

MHD_Result Server::answer_phone_profile(MHD_Connection* connection, std::string_view method) const {
  const bool tls = config_.tls();
  if (method != "GET") {  // a HEAD would take the password and send nothing
    Response response =
        Response::error(HttpError{405, Error{Code::protocol_error, "This page takes GET only."},
                                  std::chrono::seconds(0)},
                        tls, false);
    if (response.valid()) response.add_header("Allow", "GET");
    return response.queue(connection);
  }
  const char* token = MHD_lookup_connection_value(connection, MHD_GET_ARGUMENT_KIND, "token");
  auto profile = phone_setup_.profile(token ? token : "", client_of(connection));
  if (!profile.ok())
    return Response::error(http_error(profile.error()), tls, false).queue(connection);
  Response response = Response::document(*profile, kAppleProfileContentType, tls);
  OPENSSL_cleanse(profile->data(), profile->size());  // MHD keeps its own copy
  if (response.valid()) {
    response.add_header("Content-Disposition", "attachment; filename=\"mail.mobileconfig\"");
    response.add_header("Cache-Control", "no-store");  // it holds the app password
  }
  return response.queue(connection);
}

void* Server::on_uri(void*, const char* uri, MHD_Connection*) {
  auto* request = new Request;
  const std::string_view raw(uri);
  for (std::size_t at = raw.find('%'); at != std::string_view::npos; at = raw.find('%', at + 1)) {
    if (raw.substr(at + 1, 2) == "00") request->nul_in_path = true;
  }
  return request;
}

void Server::on_completed(void*, MHD_Connection*, void** request, MHD_RequestTerminationCode) {
  auto* state = static_cast<Request*>(*request);
  if (state != nullptr) wipe_body(state->body);  // S, invitation codes
  delete state;
  *request = nullptr;
}

}  // namespace touchpass::web
