#include "cli/local_channel.h"

#include <poll.h>

namespace touchpass::cli {

namespace {

// Whether touchpassd has hung up on the connection `fd` (or sent something unasked, which
// leaves it out of step): it closes a connection idle for a minute, as one is while a person
// finds, unlocks and touches their key between a ceremony's begin and finish.
bool hung_up(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  return ::poll(&p, 1, 0) != 0;
}

}  // namespace

Status LocalChannel::connect() {
  if (connection_.valid()) return Status{};
  auto connected = connect_to_daemon(socket_);
  if (!connected.ok()) return connected.error();
  connection_ = std::move(*connected);
  return Status{};
}

Result<Answer> LocalChannel::call(const ipc::Request& request,
                                  std::span<const std::uint8_t> secret) {
  // A request on a connection the daemon has closed would be lost: it goes on a new one, which
  // the daemon treats as the same client (ceremonies are bound to the process, PROTOCOL.md).
  if (connection_.valid() && hung_up(connection_.get())) connection_ = UniqueFd();
  if (Status s = connect(); !s.ok()) return s.error();
  return exchange(connection_.get(), request, cancel_, timing_, secret);
}

}  // namespace touchpass::cli
