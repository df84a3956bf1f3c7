// The remote channel's transport, against a server that never answers: Ctrl-C (the cancel flag)
// ends a transfer as `cancelled`, and a silent server is an io_error naming it. (Everything else
// it does runs against the real touchpass-web in tests/integration/web/remote_cli_test.cpp.)
#include "cli/remote_channel.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "core/fd.h"

namespace touchpass::cli {
namespace {

using namespace std::chrono_literals;

// A TCP socket listening on 127.0.0.1 that accepts nothing: connections complete in the
// kernel's backlog and then hear nothing, not even a TLS handshake.
class SilentServer {
 public:
  SilentServer() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&address), length), 0);
    EXPECT_EQ(::listen(fd_.get(), 8), 0);
    EXPECT_EQ(::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&address), &length), 0);
    port_ = ntohs(address.sin_port);
  }
  std::string origin() const { return "https://127.0.0.1:" + std::to_string(port_); }

 private:
  UniqueFd fd_;
  std::uint16_t port_ = 0;
};

RemoteServer server_at(const std::string& origin) {
  auto server = parse_remote_server(origin, "");
  EXPECT_TRUE(server.ok());
  return server.ok() ? *server : RemoteServer{};
}

TEST(RemoteChannel, TheCancelFlagEndsATransferAsCancelled) {
  SilentServer silent;
  CancelFlag cancel;
  cancel.raise();  // Ctrl-C before the answer: the transfer must not wait for its timeout
  auto channel = RemoteChannel::open(server_at(silent.origin()), cancel,
                                     {.connect = 60000ms, .request = 60000ms});
  ASSERT_TRUE(channel.ok()) << channel.error().message;
  const Status reached = (*channel)->connect();
  ASSERT_FALSE(reached.ok());
  EXPECT_EQ(reached.code(), Code::cancelled) << reached.error().message;
}

TEST(RemoteChannel, ASilentServerIsAnIoErrorNamingIt) {
  SilentServer silent;
  CancelFlag cancel;
  auto channel =
      RemoteChannel::open(server_at(silent.origin()), cancel, {.connect = 200ms, .request = 200ms});
  ASSERT_TRUE(channel.ok()) << channel.error().message;
  ipc::Request list;
  list.op = ipc::Op::list;
  auto answer = (*channel)->call(list);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.code(), Code::io_error);
  EXPECT_EQ(answer.error().message.rfind("Cannot reach " + silent.origin() + ": ", 0), 0u)
      << answer.error().message;
  EXPECT_FALSE((*channel)->in_session());
}

}  // namespace
}  // namespace touchpass::cli
