// touchpass-verify-bench: how many verifications per second touchpassd answers through its
// socket with 1, 2 and 16 concurrent clients, beside
//   (a) an echo round trip over the same kind of socket with the same framing and message — the
//       limit any daemon answering over this socket can reach on this machine, and
//   (b) one bcrypt (cost 10) and one Argon2id (m = 19 MiB, t = 2, p = 1) check: what typical
//       app-password verifiers spend per check.
// The daemon and a virtual token run as real processes (tests/integration harness); the
// password is issued through the daemon first. Usage: touchpass-verify-bench [SECONDS]
#include <argon2.h>
#include <crypt.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "daemon/daemon_harness.h"
#include "ipc/frame.h"

namespace {

using namespace std::chrono_literals;
using touchpass::testing::Client;
using touchpass::testing::Deployment;
using Clock = std::chrono::steady_clock;

// An echo server: answers every frame with the same frame, one thread per connection.
class EchoServer {
 public:
  explicit EchoServer(const std::string& path) {
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    ::unlink(path.c_str());
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 64) != 0) {
      std::perror("echo server");
    }
    acceptor_ = std::thread([this] {
      while (true) {
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) return;
        std::thread([fd] {
          while (true) {
            auto frame = touchpass::ipc::read_frame(fd, {-1ms, 5000ms});
            if (!frame.ok()) break;
            if (!touchpass::ipc::write_frame(fd, frame->json, frame->secret.bytes()).ok()) break;
          }
          ::close(fd);
        }).detach();
      }
    });
  }
  ~EchoServer() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    acceptor_.join();
  }

 private:
  int listen_fd_;
  std::thread acceptor_;
};

// Round trips per second of `clients` threads, each on its own connection to `socket`,
// sending `json` + `secret` and reading one answer, for `duration`. Every answer must be
// accepted (an ok answer, or for the echo the same bytes) or the run counts as failed (-1).
double rate(const std::string& socket, int clients, const std::string& json,
            const std::string& secret, std::chrono::seconds duration) {
  std::atomic<long> total{0};
  std::atomic<bool> failed{false};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&] {
      auto client = Client::connect(socket);
      if (!client) {
        failed = true;
        return;
      }
      const auto* p = reinterpret_cast<const std::uint8_t*>(secret.data());
      const std::span<const std::uint8_t> bytes(p, secret.size());
      long n = 0;
      while (!stop) {
        if (!touchpass::ipc::write_frame(client->fd(), json, bytes).ok()) break;
        auto answer = touchpass::ipc::read_frame(client->fd(), {5000ms, 5000ms});
        if (!answer.ok() ||
            (answer->json != json && answer->json.find("\"ok\":true") == std::string::npos)) {
          failed = true;
          break;
        }
        ++n;
      }
      total += n;
    });
  }
  const auto start = Clock::now();
  std::this_thread::sleep_for(duration);
  stop = true;
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return failed ? -1.0 : static_cast<double>(total) / seconds;
}

// Seconds per call of `check`, averaged over `n` calls.
template <class F>
double seconds_per(int n, F&& check) {
  const auto start = Clock::now();
  for (int i = 0; i < n; ++i) check();
  return std::chrono::duration<double>(Clock::now() - start).count() / n;
}

}  // namespace

int main(int argc, char** argv) {
  const std::chrono::seconds duration(argc > 1 ? std::atoi(argv[1]) : 3);
  Deployment::Options options;
  options.extra_config = "failure_delay_ms = 0\n";
  Deployment deployment(options);
  if (!deployment.start_token() || !deployment.start_daemon()) {
    std::fprintf(stderr, "cannot start touchpassd and the virtual token\n");
    return 1;
  }
  auto client = Client::connect(deployment.socket());
  const auto enrolled = client->call({{"v", 1}, {"op", "enroll"}}, "123456");
  const auto issued = client->call({{"v", 1}, {"op", "issue"}, {"name", "bench"}}, "123456");
  if (!enrolled || !issued || issued->secret.empty()) {
    std::fprintf(stderr, "cannot issue a password\n");
    return 1;
  }
  const std::string password = issued->secret;
  const std::string verify_json =
      R"({"v":1,"op":"verify","user":"root","service":"imap","remote":"127.0.0.1"})";
  const std::string echo_path = (deployment.dir() / "echo.sock").string();
  EchoServer echo(echo_path);

  std::printf("touchpass verification through the socket (%lld s per run, %u cores)\n",
              static_cast<long long>(duration.count()), std::thread::hardware_concurrency());
  std::printf("%8s %14s %14s %8s\n", "clients", "echo/s", "verify/s", "ratio");
  for (int clients : {1, 2, 16}) {
    const double e = rate(echo_path, clients, verify_json, password, duration);
    const double v = rate(deployment.socket().string(), clients, verify_json, password, duration);
    std::printf("%8d %14.0f %14.0f %7.0f%%\n", clients, e, v, v > 0 && e > 0 ? 100 * v / e : 0);
  }

  // What typical app-password verifiers spend on one check.
  crypt_data data{};
  const std::string bcrypt_hash = crypt_r(password.c_str(), "$2b$10$abcdefghijklmnopqrstuv", &data);
  const double bcrypt =
      seconds_per(5, [&] { crypt_r(password.c_str(), bcrypt_hash.c_str(), &data); });
  char argon_hash[128];
  const char salt[] = "touchpass-bench-salt";
  argon2id_hash_encoded(2, 19 * 1024, 1, password.data(), password.size(), salt, sizeof salt - 1,
                        32, argon_hash, sizeof argon_hash);
  const double argon = seconds_per(5, [&] {
    if (argon2id_verify(argon_hash, password.data(), password.size()) != ARGON2_OK) std::abort();
  });
  std::printf("bcrypt cost 10:              %8.1f ms per check (%6.1f checks/s per core)\n",
              bcrypt * 1e3, 1 / bcrypt);
  std::printf("Argon2id m=19MiB t=2 p=1:    %8.1f ms per check (%6.1f checks/s per core)\n",
              argon * 1e3, 1 / argon);
  return 0;
}
