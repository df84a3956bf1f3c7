#include "web/daemon_relay.h"

#include "web/log.h"

namespace touchpass::web {

namespace {

Error unavailable(const Error& cause) {
  log(LogLevel::warning, "touchpassd: " + cause.message);
  return Error{Code::io_error, "The service is not available right now; try again later."};
}

}  // namespace

Result<ipc::DaemonAnswer> relay_to_daemon(const std::filesystem::path& socket,
                                          const RelayedRequest& relayed,
                                          std::chrono::milliseconds timeout) {
  auto connection = ipc::connect_to_daemon(socket.string());
  if (!connection.ok()) return unavailable(connection.error());
  ipc::ExchangeOptions options;
  options.reply_timeout = timeout;
  auto answer = ipc::exchange(connection->get(), relayed.request, relayed.secret.bytes(), options);
  if (!answer.ok() && answer.code() == Code::io_error) {
    return unavailable(answer.error());
  }
  return answer;
}

}  // namespace touchpass::web
