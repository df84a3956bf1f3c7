#include "cli/local_channel.h"

namespace touchpass::cli {

Status LocalChannel::connect() {
  if (connection_.valid()) return Status{};
  auto connected = connect_to_daemon(socket_);
  if (!connected.ok()) return connected.error();
  connection_ = std::move(*connected);
  return Status{};
}

Result<Answer> LocalChannel::call(const ipc::Request& request,
                                  std::span<const std::uint8_t> secret) {
  if (Status s = connect(); !s.ok()) return s.error();
  return exchange(connection_.get(), request, cancel_, timing_, secret);
}

}  // namespace touchpass::cli
