#include "bench_clients.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <mutex>
#include <sstream>
#include <thread>

namespace touchpass::bench {

namespace {

constexpr std::size_t kHeaderSize = 6;
constexpr std::size_t kMaxFrame = kHeaderSize + 64 * 1024 + 256;

// `ms` as a timeval (for SO_SNDTIMEO / SO_RCVTIMEO).
timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

// "WHAT: reason" for the current errno; a socket timeout reads "timed out".
std::string errno_text(const char* what) {
  if (errno == EAGAIN || errno == EWOULDBLOCK) return std::string(what) + ": timed out";
  return std::string(what) + ": " + std::strerror(errno);
}

// The content of a small /proc file ("" if it cannot be read).
std::string read_proc(const std::string& path) {
  const touchpass::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return "";
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) {
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

}  // namespace

std::string encode_frame(std::string_view json, std::string_view secret) {
  std::string out;
  out.reserve(kHeaderSize + json.size() + secret.size());
  const auto j = static_cast<std::uint32_t>(json.size());
  const auto s = static_cast<std::uint16_t>(secret.size());
  out.push_back(static_cast<char>((j >> 24) & 0xff));
  out.push_back(static_cast<char>((j >> 16) & 0xff));
  out.push_back(static_cast<char>((j >> 8) & 0xff));
  out.push_back(static_cast<char>(j & 0xff));
  out.push_back(static_cast<char>((s >> 8) & 0xff));
  out.push_back(static_cast<char>(s & 0xff));
  out.append(json);
  out.append(secret);
  return out;
}

std::string verify_frame(std::string_view user, std::string_view service, std::string_view remote,
                         std::string_view password) {
  // The names the bench uses need no JSON escaping.
  std::string json = R"({"v":1,"op":"verify","user":")" + std::string(user) + R"(","service":")" +
                     std::string(service) + '"';
  if (!remote.empty()) json += R"(,"remote":")" + std::string(remote) + '"';
  json += '}';
  return encode_frame(json, password);
}

FrameClient::FrameClient(touchpass::UniqueFd fd) : fd_(std::move(fd)), buf_(2 * kMaxFrame) {}

std::optional<FrameClient> FrameClient::connect(const std::string& path,
                                                std::chrono::milliseconds timeout,
                                                std::string* error) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    if (error) *error = "socket path too long";
    return std::nullopt;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  touchpass::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    if (error) *error = errno_text("socket");
    return std::nullopt;
  }
  // SO_SNDTIMEO also bounds connect() on a Unix socket whose backlog is full.
  const timeval tv = to_timeval(timeout);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (error) *error = errno_text("connect");
    return std::nullopt;
  }
  return FrameClient(std::move(fd));
}

bool FrameClient::round_trip(std::string_view request, std::string& error) {
  if (consumed_ > 0) {
    std::memmove(buf_.data(), buf_.data() + consumed_, have_ - consumed_);
    have_ -= consumed_;
    consumed_ = 0;
  }
  answer_ = {};
  const char* p = request.data();
  std::size_t left = request.size();
  while (left > 0) {
    const ssize_t n = ::send(fd_.get(), p, left, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = errno_text("send");
      return false;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  while (true) {
    if (have_ >= kHeaderSize) {
      const auto* h = reinterpret_cast<const std::uint8_t*>(buf_.data());
      const std::size_t json = (std::size_t{h[0]} << 24) | (std::size_t{h[1]} << 16) |
                               (std::size_t{h[2]} << 8) | std::size_t{h[3]};
      const std::size_t secret = (std::size_t{h[4]} << 8) | std::size_t{h[5]};
      const std::size_t size = kHeaderSize + json + secret;
      if (size > kMaxFrame) {
        error = "answer frame over the limits";
        return false;
      }
      if (have_ >= size) {
        answer_ = std::string_view(buf_.data(), size);
        json_len_ = json;
        consumed_ = size;
        return true;
      }
    }
    const ssize_t n = ::recv(fd_.get(), buf_.data() + have_, buf_.size() - have_, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      error = "connection closed by the server";
      return false;
    }
    if (n < 0) {
      error = errno_text("recv");
      return false;
    }
    have_ += static_cast<std::size_t>(n);
  }
}

bool echoed(std::string_view request, const FrameClient& client) {
  return client.answer() == request;
}

bool accepted(std::string_view, const FrameClient& client) {
  return client.answer_json().find(R"("ok":true)") != std::string_view::npos;
}

double LoadResult::percentile_us(double q) const {
  if (latencies_ns.empty()) return 0;
  const double rank = std::ceil(q * static_cast<double>(latencies_ns.size()));
  const std::size_t i =
      std::min(latencies_ns.size() - 1, static_cast<std::size_t>(std::max(1.0, rank)) - 1);
  return static_cast<double>(latencies_ns[i]) / 1e3;
}

double LoadResult::max_us() const {
  return latencies_ns.empty() ? 0 : static_cast<double>(latencies_ns.back()) / 1e3;
}

long LoadResult::slower_than(std::chrono::nanoseconds limit) const {
  const auto first = std::upper_bound(latencies_ns.begin(), latencies_ns.end(), limit.count());
  return static_cast<long>(latencies_ns.end() - first);
}

LoadResult run_load(const LoadSpec& spec) {
  LoadResult result;
  if (spec.frames.empty() || spec.clients <= 0) {
    result.first_error = "nothing to send";
    return result;
  }
  std::mutex mu;
  std::atomic<long> budget{0};
  const auto start = Clock::now();
  const auto deadline = start + spec.duration;
  const auto interval = spec.rate_per_client > 0
                            ? std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(1.0 / spec.rate_per_client))
                            : Clock::duration::zero();
  std::vector<std::thread> threads;
  for (int c = 0; c < spec.clients; ++c) {
    threads.emplace_back([&, c] {
      std::vector<std::int64_t> latencies;
      latencies.reserve(spec.max_requests > 0 ? 1024 : 1 << 16);
      long ok = 0, failed = 0, connect_failed = 0;
      std::string error;
      const auto note = [&](const std::string& what) {
        ++failed;
        std::lock_guard lock(mu);
        if (result.first_error.empty()) result.first_error = what;
      };
      std::optional<FrameClient> conn;
      const std::size_t n = spec.frames.size();
      std::size_t k = 0;
      // Paced clients start spread over one interval.
      auto next = start + interval * c / spec.clients;
      while (true) {
        auto now = Clock::now();
        if (now >= deadline) break;
        if (spec.max_requests > 0 && budget.fetch_add(1) >= spec.max_requests) break;
        if (interval > Clock::duration::zero()) {
          if (next >= deadline) break;
          if (next > now) std::this_thread::sleep_until(next);
          next += interval;
          now = Clock::now();
          if (next < now) next = now;  // late: no burst to catch up
        }
        const std::string& frame =
            spec.frames[(static_cast<std::size_t>(c) + k * static_cast<std::size_t>(spec.clients)) %
                        n];
        ++k;
        const auto t0 = Clock::now();
        if (!conn) {
          conn = FrameClient::connect(spec.socket, spec.timeout, &error);
          if (!conn) {
            ++connect_failed;
            note(error);
            std::this_thread::sleep_for(10ms);
            continue;
          }
        }
        // A persistent connection's set-up is not part of its first request.
        const auto sent = spec.connect_each ? t0 : Clock::now();
        if (!conn->round_trip(frame, error)) {
          note(error);
          conn.reset();
          std::this_thread::sleep_for(10ms);
          continue;
        }
        const auto t1 = Clock::now();
        if (spec.check(frame, *conn)) {
          ++ok;
          latencies.push_back(
              std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - sent).count());
        } else {
          note("unexpected answer: " + std::string(conn->answer_json()));
        }
        if (spec.connect_each) conn.reset();
      }
      std::lock_guard lock(mu);
      result.requests += ok;
      result.failures += failed;
      result.connect_failures += connect_failed;
      result.latencies_ns.insert(result.latencies_ns.end(), latencies.begin(), latencies.end());
    });
  }
  for (auto& t : threads) t.join();
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(result.latencies_ns.begin(), result.latencies_ns.end());
  return result;
}

pid_t peer_pid(const std::string& socket_path) {
  auto client = FrameClient::connect(socket_path, 5s);
  if (!client) return -1;
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(client->fd(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -1;
  return cred.pid;
}

double process_cpu_seconds(pid_t pid) {
  const std::string text = read_proc("/proc/" + std::to_string(pid) + "/stat");
  // The command name (field 2) may hold spaces: fields are counted after its closing ')'.
  const auto paren = text.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream fields(text.substr(paren + 1));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  const long ticks = ::sysconf(_SC_CLK_TCK);
  if (ticks <= 0) return -1;
  return static_cast<double>(utime + stime) / static_cast<double>(ticks);
}

long status_kb(pid_t pid, std::string_view field) {
  const std::string text = read_proc("/proc/" + std::to_string(pid) + "/status");
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > field.size() && line.compare(0, field.size(), field) == 0 &&
        line[field.size()] == ':') {
      return std::strtol(line.c_str() + field.size() + 1, nullptr, 10);
    }
  }
  return -1;
}

double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::uint64_t next_random(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string random_password(std::uint64_t& state) {
  static constexpr char kAlphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
  std::string out;
  std::uint64_t bits = next_random(state);
  for (int i = 0; i < 20; ++i) {
    if (i > 0 && i % 4 == 0) out += '-';
    if (i == 12) bits = next_random(state);
    out += kAlphabet[bits & 31];
    bits >>= 5;
  }
  return out;
}

std::string random_ipv4(std::uint64_t& state) {
  const std::uint64_t r = next_random(state);
  // 10.x.x.x and 127.x.x.x are left out: the service verifies from 127.0.0.1.
  const unsigned a = 11 + static_cast<unsigned>(r % 100);
  return std::to_string(a) + "." + std::to_string((r >> 8) & 0xff) + "." +
         std::to_string((r >> 16) & 0xff) + "." + std::to_string((r >> 24) & 0xff);
}

std::string random_ipv6(std::uint64_t& state) {
  std::uint64_t hi = next_random(state), lo = next_random(state);
  char buf[64];
  std::snprintf(buf, sizeof buf, "2001:db8:%x:%x:%x:%x:%x:%x", static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>((hi >> 16) & 0xffff),
                static_cast<unsigned>((hi >> 32) & 0xffff), static_cast<unsigned>(lo & 0xffff),
                static_cast<unsigned>((lo >> 16) & 0xffff),
                static_cast<unsigned>((lo >> 32) & 0xffff));
  return buf;
}

}  // namespace touchpass::bench
