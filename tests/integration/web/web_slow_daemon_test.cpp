// touchpass-web while touchpassd is slow to answer (a refused account password is answered
// late on purpose; a busy daemon): a relayed request holds only its own connection, and the
// page, the health check and everybody else's requests are served meanwhile.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "core/fd.h"
#include "integration/web/web_gateway_fixture.h"

namespace touchpass::testing {
namespace {

// Stands where touchpassd's socket would be: accepts connections and never answers until it
// is destroyed, counting what connected.
class SilentDaemon {
 public:
  explicit SilentDaemon(const std::filesystem::path& path) {
    listener_ = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    path.string().copy(sun.sun_path, sizeof sun.sun_path - 1);
    if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0 ||
        ::listen(listener_.get(), 64) != 0) {
      listener_ = UniqueFd();
      return;
    }
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{listener_.get(), POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!fd.valid()) continue;
        held_.push_back(std::move(fd));
        ++connected_;
      }
    });
  }
  ~SilentDaemon() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  bool listening() const { return listener_.valid(); }
  int connected() const { return connected_; }

 private:
  UniqueFd listener_;
  std::vector<UniqueFd> held_;  // closed when destroyed: the waiting relays end then
  std::atomic<bool> stop_{false};
  std::atomic<int> connected_{0};
  std::thread thread_;
};

TEST_F(WebGateway, ARequestTouchpassdIsSlowToAnswerHoldsOnlyItsOwnConnection) {
  ASSERT_NO_FATAL_FAILURE(start(tls_config("daemon_timeout_seconds = 120\n")));
  auto daemon = std::make_unique<SilentDaemon>(dir_.path() / "touchpassd.sock");
  ASSERT_TRUE(daemon->listening());
  // More waiting relays than a small pool of threads would have.
  constexpr int kWaiting = 8;
  std::vector<std::thread> clients;
  std::atomic<int> answered{0};
  for (int i = 0; i < kWaiting; ++i) {
    clients.emplace_back([&] {
      (void)get("/api/v1/session");
      ++answered;
    });
  }
  // Every one of them reaches touchpassd; none is answered.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (daemon->connected() < kWaiting && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(daemon->connected(), kWaiting);
  EXPECT_EQ(answered.load(), 0);
  // Meanwhile the page and the health check are served.
  EXPECT_EQ(get("/").status, 200);
  EXPECT_EQ(get("/api/v1/health").status, 200);
  daemon.reset();  // the relays end: touchpassd went away
  for (auto& c : clients) c.join();
  EXPECT_EQ(answered.load(), kWaiting);
}

}  // namespace
}  // namespace touchpass::testing
