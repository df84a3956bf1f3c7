// touchpass-web as a separate process, spoken to over real TLS with libcurl: the API's answers
// and errors, the limits, the security headers, the static files, rate limits per address,
// slow clients, the reverse-proxy mode on a Unix socket, and the configuration check. After
// every test the process must still be running and must stop cleanly on SIGTERM.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/fd.h"
#include "integration/web/web_gateway_fixture.h"
#include "integration/web/web_process.h"
#include "support/virtual_token.h"

namespace touchpass::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr const char* kCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src "
    "'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

// A TCP connection from `source` (a loopback address) to 127.0.0.1:port, or an empty fd.
UniqueFd connect_from(const char* source, std::uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, source, &local.sin_addr);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      ::connect(fd.get(), reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0) {
    return UniqueFd();
  }
  return fd;
}

// Whether the server closes `fd` (end of stream or a reset) within `limit`; data is skipped.
bool closed_by_server(int fd, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buffer[256];
    if (::recv(fd, buffer, sizeof buffer, 0) <= 0) return true;
  }
}

// Waits until the server has closed `count` of the connections in `fds` that `open` marks, or
// `limit` has passed; marks those it closed and returns how many.
int wait_for_closes(const std::vector<UniqueFd>& fds, std::vector<bool>& open, int count,
                    std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int closed = 0;
  while (closed < count) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    std::vector<pollfd> polled;
    std::vector<std::size_t> index;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (!open[i]) continue;
      polled.push_back({fds[i].get(), POLLIN, 0});
      index.push_back(i);
    }
    if (::poll(polled.data(), polled.size(), static_cast<int>(left.count())) <= 0) break;
    for (std::size_t k = 0; k < polled.size(); ++k) {
      if (polled[k].revents == 0) continue;
      char buffer[256];
      if (::recv(polled[k].fd, buffer, sizeof buffer, MSG_DONTWAIT) <= 0) {
        open[index[k]] = false;
        ++closed;
      }
    }
  }
  return closed;
}

// Runs the program with `arguments`; its exit status and everything it printed.
std::pair<int, std::string> run(const std::string& arguments) {
  const std::string command = std::string(TOUCHPASS_WEB_PROGRAM) + " " + arguments + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  std::string output;
  char buffer[512];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

TEST_F(WebGateway, HealthSaysWhetherTouchpassdCanBeReached) {
  ASSERT_NO_FATAL_FAILURE(start(tls_config()));
  HttpAnswer a = get("/api/v1/health");
  ASSERT_EQ(a.status, 200) << a.error;
  EXPECT_EQ(Json::parse(a.body), (Json{{"v", 1}, {"ok", true}, {"result", {{"daemon", false}}}}));

  // A listening socket where touchpassd's would be.
  UniqueFd daemon(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  const std::string path = (dir_.path() / "touchpassd.sock").string();
  path.copy(sun.sun_path, path.size());
  ASSERT_EQ(::bind(daemon.get(), reinterpret_cast<sockaddr*>(&sun), sizeof sun), 0);
  ASSERT_EQ(::listen(daemon.get(), 8), 0);
  a = get("/api/v1/health");
  ASSERT_EQ(a.status, 200) << a.error;
  EXPECT_EQ(Json::parse(a.body)["result"]["daemon"], true);
}

TEST_F(WebGateway, UnknownApiPathsAndWrongMethodsAreJsonErrors) {
  ASSERT_NO_FATAL_FAILURE(start(tls_config()));
  expect_error(get("/api/v1/nothing"), 404, "not_found");
  expect_error(get("/api/v2/health"), 404, "not_found");
  const HttpAnswer wrong = http(request("/api/v1/health", "DELETE"));
  expect_error(wrong, 405, "protocol_error");
  EXPECT_EQ(wrong.header("allow"), "GET, HEAD");
  const HttpAnswer page_post = http(request("/index.html", "POST"));
  expect_error(page_post, 405, "protocol_error");
  expect_error(get("/missing.html"), 404, "not_found");
}

TEST_F(WebGateway, MalformedJsonIsAProtocolError) {
  ASSERT_NO_FATAL_FAILURE(start(tls_config()));
  const std::string deep = "{\"v\":1,\"a\":" + std::string(40, '[') + std::string(40, ']') + "}";
  for (const std::string& body :
       {std::string("{\"v\":1,"), std::string("not json"), std::string("[]"), deep}) {
    HttpRequest r = request("/api/v1/health", "POST");
    r.body = body;
    r.headers = {"Content-Type: application/json"};
    expect_error(http(r), 400, "protocol_error");
  }
}

TEST_F(WebGateway, BodiesOverTheLimitAreRefusedWith413) {
  ASSERT_NO_FATAL_FAILURE(start(tls_config("max_body_bytes = 1000\n")));
  HttpRequest declared = request("/api/v1/health", "POST");
  declared.body = std::string(1001, 'a');
  expect_error(http(declared), 413, "protocol_error");
  // Chunked: no length is declared, the gateway counts what arrives (and keeps none of it).
  HttpRequest chunked = declared;
  chunked.body = std::string(200000, 'a');
  chunked.headers = {"Transfer-Encoding: chunked"};
  expect_error(http(chunked), 413, "protocol_error");
  // A client that waits for "100 Continue" is answered before it sends the body.
  HttpRequest waiting = declared;
  waiting.body = std::string(500000, 'a');
  waiting.headers = {"Expect: 100-continue"};
  expect_error(http(waiting), 413, "protocol_error");
  // At the limit the body is read and parsed.
  HttpRequest at_limit = declared;
  at_limit.body = "{\"v\":1,\"x\":\"" + std::string(1000 - 14, 'a') + "\"}";
  ASSERT_EQ(at_limit.body->size(), 1000u);
  expect_error(http(at_limit), 405, "protocol_error");
}

TEST_F(WebGateway, TooManyHeadersAreRefusedWith431) {
  ASSERT_NO_FATAL_FAILURE(start(tls_config()));
  HttpRequest r = request("/api/v1/health");
  for (int i = 0; i < 70; ++i) r.headers.push_back("X-Filler-" + std::to_string(i) + ": x");
  expect_error(http(r), 431, "protocol_error");
  // Headers larger than a connection's memory are refused by libmicrohttpd itself.
  HttpRequest huge = request("/api/v1/health");
  huge.headers = {"X-Huge: " + std::string(40000, 'h')};
  const HttpAnswer a = http(huge);
  EXPECT_EQ(a.status, 431) << a.error;
  EXPECT_EQ(get("/api/v1/health").status, 200);
}

TEST_F(WebGateway, EveryResponseCarriesTheSecurityHeaders) {
  ASSERT_NO_FATAL_FAILURE(start(tls_config()));
  HttpRequest big = request("/api/v1/health", "POST");
  big.body = std::string(70000, 'a');
  const HttpAnswer answers[] = {get("/api/v1/health"), get("/api/v1/nothing"), get("/"),
                                get("/missing.html"), http(big)};
  for (const HttpAnswer& a : answers) {
    ASSERT_NE(a.status, 0) << a.error;
    EXPECT_EQ(a.header("content-security-policy"), kCsp) << a.status;
    EXPECT_EQ(a.header("strict-transport-security"), "max-age=63072000") << a.status;
    EXPECT_EQ(a.header("x-content-type-options"), "nosniff") << a.status;
    EXPECT_EQ(a.header("referrer-policy"), "no-referrer") << a.status;
    EXPECT_EQ(a.header("cross-origin-opener-policy"), "same-origin") << a.status;
  }
  EXPECT_EQ(answers[0].header("cache-control"), "no-store");
  EXPECT_EQ(answers[1].header("cache-control"), "no-store");
  EXPECT_EQ(answers[4].header("cache-control"), "no-store");
}

TEST_F(WebGateway, ServesStaticFilesWithTheirTypes) {
  ASSERT_NO_FATAL_FAILURE(start(tls_config()));
  const HttpAnswer index = get("/");
  ASSERT_EQ(index.status, 200) << index.error;
  EXPECT_EQ(index.header("content-type"), "text/html; charset=utf-8");
  std::ostringstream source;
  source << std::ifstream(static_dir_ / "index.html").rdbuf();
  EXPECT_EQ(index.body, source.str());
  EXPECT_EQ(index.body.find("<script>"), std::string::npos);  // no inline script
  EXPECT_EQ(index.body.find("<style"), std::string::npos);    // no inline style
  EXPECT_EQ(get("/app.css").header("content-type"), "text/css; charset=utf-8");
  EXPECT_EQ(get("/app.js").header("content-type"), "text/javascript; charset=utf-8");
  const HttpAnswer head = http(request("/app.js", "HEAD"));
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
}

TEST_F(WebGateway, RefusesPathTraversalAndLinksOutOfTheStaticDirectory) {
  ASSERT_NO_FATAL_FAILURE(start(tls_config()));
  for (const char* path : {"/../secret.txt", "/../../../../etc/passwd", "/%2e%2e/secret.txt",
                           "/%2E%2E%2Fsecret.txt", "/escape.txt", "/up/secret.txt",
                           "/index.html%00.js", "/.%2e/secret.txt", "/static/../secret.txt"}) {
    HttpRequest r = request(path);
    r.path_as_is = true;
    const HttpAnswer a = http(r);
    EXPECT_NE(a.status, 200) << path;
    EXPECT_EQ(a.body.find("outside the static directory"), std::string::npos) << path;
    if (a.status != 400) expect_error(a, 404, "not_found");  // 400: refused by the parser
  }
}

TEST_F(WebGateway, RateLimitsEachClientAddress) {
  ASSERT_NO_FATAL_FAILURE(start(tls_config("rate_limit_per_minute = 2\n")));
  EXPECT_EQ(get("/api/v1/health").status, 200);
  EXPECT_EQ(get("/").status, 200);
  const HttpAnswer limited = get("/api/v1/health");
  expect_error(limited, 429, "busy");
  const int retry_after = std::atoi(limited.header("retry-after").c_str());
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 30);
  EXPECT_EQ(limited.header("content-security-policy"), kCsp);
  // Another address has its own allowance.
  HttpRequest other = request("/api/v1/health");
  other.source_address = "127.0.0.2";
  EXPECT_EQ(http(other).status, 200) << http(other).error;
}

TEST_F(WebGateway, SlowClientsDoNotStarveOthers) {
  // Slow clients from 127.0.0.2 hold connections open and trickle bytes; the per-address
  // connection limit keeps all but three of them out.
  ASSERT_NO_FATAL_FAILURE(
      start(tls_config("max_connections_per_address = 3\nrequest_timeout_seconds = 600\n")));
  std::vector<UniqueFd> slow;
  for (int i = 0; i < 10; ++i) {
    slow.push_back(connect_from("127.0.0.2", port()));
    ASSERT_TRUE(slow.back().valid());
    ASSERT_EQ(::send(slow.back().get(), "\x16", 1, MSG_NOSIGNAL), 1);  // a TLS record begins
  }
  // The seven over the limit are closed at once.
  std::vector<bool> open(slow.size(), true);
  const int closed = wait_for_closes(slow, open, 7, std::chrono::seconds(20));
  ASSERT_EQ(closed, 7);
  for (std::size_t i = 0; i < slow.size(); ++i) {
    if (open[i]) {
      EXPECT_EQ(::send(slow[i].get(), "\x03", 1, MSG_NOSIGNAL), 1);  // trickle
    }
  }
  // Everybody else is served while they hang; the slow address gets no fourth connection.
  for (int i = 0; i < 3; ++i) {
    const HttpAnswer a = get("/api/v1/health");
    EXPECT_EQ(a.status, 200) << a.error;
  }
  HttpRequest fourth = request("/api/v1/health");
  fourth.source_address = "127.0.0.2";
  EXPECT_EQ(http(fourth).status, 0);
  for (std::size_t i = 0; i < slow.size(); ++i) {
    if (open[i]) {
      EXPECT_EQ(::send(slow[i].get(), "\x03", 1, MSG_NOSIGNAL), 1);
    }
  }
  EXPECT_EQ(get("/").status, 200);
}

TEST_F(WebGateway, IdleConnectionsAreClosedAfterTheTimeout) {
  ASSERT_NO_FATAL_FAILURE(start(tls_config("request_timeout_seconds = 1\n")));
  const UniqueFd idle = connect_from("127.0.0.3", port());
  ASSERT_TRUE(idle.valid());
  ASSERT_EQ(::send(idle.get(), "\x16\x03", 2, MSG_NOSIGNAL), 2);
  EXPECT_TRUE(closed_by_server(idle.get(), std::chrono::seconds(30)));
  EXPECT_EQ(get("/api/v1/health").status, 200);
}

TEST_F(WebGateway, SurvivesGarbageOnItsPort) {
  ASSERT_NO_FATAL_FAILURE(start(tls_config("request_timeout_seconds = 2\n")));
  const std::string inputs[] = {
      "GET / HTTP/1.1\r\nHost: x\r\n\r\n",  // plain HTTP on the TLS port
      std::string("\x16\x03\x01\xff\xff", 5) + std::string(2000, '\xff'),  // a broken hello
      std::string(5000, '\0'),
      "\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00",  // a hello cut short
  };
  for (const std::string& input : inputs) {
    const UniqueFd fd = connect_from("127.0.0.4", port());
    ASSERT_TRUE(fd.valid());
    (void)::send(fd.get(), input.data(), input.size(), MSG_NOSIGNAL);
    EXPECT_TRUE(closed_by_server(fd.get(), std::chrono::seconds(30)));
    EXPECT_EQ(get("/api/v1/health").status, 200);
  }
}

TEST_F(WebGateway, BehindAProxyOnAUnixSocketBelievesOnlyItsForwardedFor) {
  const fs::path socket = dir_.path() / "web.sock";
  ASSERT_NO_FATAL_FAILURE(start("listen = unix:" + socket.string() +
                                "\ntrusted_proxy = unix\nrate_limit_per_minute = 1\nstatic_dir = " +
                                static_dir_.string() + "\n"));
  EXPECT_EQ(web_->base_url(), "http://unix:" + socket.string());
  const auto from_lines = [&](const std::vector<std::string>& lines) {
    HttpRequest r;
    r.url = "http://localhost/api/v1/health";
    r.unix_socket = socket;
    for (const std::string& line : lines) r.headers.push_back("X-Forwarded-For: " + line);
    return http(r);
  };
  const auto from = [&](const std::string& forwarded) { return from_lines({forwarded}); };
  const HttpAnswer first = from("192.0.2.1");
  EXPECT_EQ(first.status, 200) << first.error;
  EXPECT_EQ(first.header("strict-transport-security"), "");  // plain HTTP: the proxy sets HSTS
  EXPECT_EQ(first.header("content-security-policy"), kCsp);
  expect_error(from("192.0.2.1"), 429, "busy");
  EXPECT_EQ(from("192.0.2.2").status, 200);
  // The proxy appends the address it saw; what a client wrote before it is not believed.
  expect_error(from("192.0.2.3, 192.0.2.1"), 429, "busy");
  EXPECT_EQ(from("192.0.2.1, 192.0.2.4").status, 200);
  // A proxy that adds a line of its own (HAProxy's `option forwardfor`) instead of appending to
  // the client's: the last entry of the last line.
  expect_error(from_lines({"192.0.2.5", "192.0.2.1"}), 429, "busy");
  EXPECT_EQ(from_lines({"192.0.2.1", "192.0.2.6, 192.0.2.7"}).status, 200);
  web_->terminate();
  EXPECT_FALSE(fs::exists(socket));
  web_.reset();
}

TEST_F(WebGateway, CheckConfigRefusesPlainHttpOnAPublicAddress) {
  const fs::path plain =
      write_config("listen = 0.0.0.0:8443\nstatic_dir = " + static_dir_.string() + "\n");
  auto [status, output] = run("--config " + plain.string() + " --check-config");
  EXPECT_EQ(status, 1);
  EXPECT_NE(output.find("never serves plain HTTP"), std::string::npos) << output;
  // Started for real, it refuses in the same words.
  auto [start_status, start_output] = run("--config " + plain.string());
  EXPECT_EQ(start_status, 1);
  EXPECT_NE(start_output.find("never serves plain HTTP"), std::string::npos) << start_output;

  EXPECT_EQ(run("--no-such-option").first, 2);
  EXPECT_EQ(run("--help").first, 0);
  const fs::path good = write_config(tls_config());
  auto [good_status, good_output] = run("--config " + good.string() + " --check-config");
  EXPECT_EQ(good_status, 0) << good_output;
  const fs::path bad_key = write_config(tls_config() + "max_connections = 3\nnonsense = 1\n");
  auto [bad_status, bad_output] = run("--config " + bad_key.string() + " --check-config");
  EXPECT_EQ(bad_status, 1);
  EXPECT_NE(bad_output.find(":7: unknown key \"nonsense\""), std::string::npos) << bad_output;
}

TEST_F(WebGateway, RefusesToStartWithACertificateItCannotUse) {
  std::ofstream(dir_.path() / "garbage.pem") << "-----BEGIN CERTIFICATE-----\nAAAA\n";
  const auto config_with = [&](const fs::path& cert, const fs::path& key) {
    return write_config("listen = 127.0.0.1:0\ntls_certificate = " + cert.string() +
                        "\ntls_key = " + key.string() + "\nstatic_dir = " + static_dir_.string() +
                        "\n");
  };
  auto [status, output] =
      run("--config " + config_with(dir_.path() / "garbage.pem", certificate_->key).string());
  EXPECT_EQ(status, 1) << output;
  EXPECT_NE(output.find("garbage.pem does not start with a certificate"), std::string::npos)
      << output;
  // A certificate with another certificate's key.
  const fs::path other_dir = dir_.path() / "other";
  fs::create_directories(other_dir);
  const auto other = TestCertificate::make(other_dir);
  ASSERT_TRUE(other);
  auto [mismatch, mismatch_output] =
      run("--config " + config_with(certificate_->certificate, other->key).string());
  EXPECT_EQ(mismatch, 1) << mismatch_output;
  EXPECT_NE(mismatch_output.find("do not belong together"), std::string::npos) << mismatch_output;
  // The certificate in the key's place.
  auto [no_key, no_key_output] =
      run("--config " + config_with(certificate_->certificate, certificate_->certificate).string());
  EXPECT_EQ(no_key, 1) << no_key_output;
  EXPECT_NE(no_key_output.find("holds no private key"), std::string::npos) << no_key_output;
}

}  // namespace
}  // namespace touchpass::testing
