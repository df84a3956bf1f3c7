#include "web/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "support/virtual_token.h"

namespace touchpass::web {
namespace {

TEST(WebConfig, EmptyTextGivesTheDocumentedDefaults) {
  auto c = parse_config("", "web.conf");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->listen.to_string(), "127.0.0.1:8080");
  EXPECT_FALSE(c->tls());
  EXPECT_EQ(c->daemon_socket, "/run/touchpass/touchpassd.sock");
  EXPECT_EQ(c->static_dir, "/usr/share/touchpass/web");
  EXPECT_EQ(c->max_connections, 256);
  EXPECT_EQ(c->max_connections_per_address, 16);
  EXPECT_EQ(c->request_timeout, std::chrono::seconds(30));
  EXPECT_EQ(c->max_body_bytes, 64u * 1024u);
  EXPECT_EQ(c->rate_limit_per_minute, 120);
  EXPECT_TRUE(c->trusted_proxy.empty());
  EXPECT_TRUE(c->origin.empty());
  EXPECT_EQ(c->daemon_timeout, std::chrono::seconds(10));
}

TEST(WebConfig, ParsesEveryKey) {
  const char* text =
      "# a test configuration\n"
      "listen = [::]:8443   # every IPv6 address\n"
      "tls_certificate = /etc/ssl/web.pem\n"
      "tls_key=/etc/ssl/private/web.key\n"
      "daemon_socket = /tmp/x/touchpassd.sock\n"
      "static_dir = /tmp/x/static\n"
      "\n"
      "max_connections = 100\n"
      "max_connections_per_address = 4\n"
      "request_timeout_seconds = 7\n"
      "max_body_bytes = 1000\n"
      "rate_limit_per_minute = 30\n"
      "trusted_proxy = 192.0.2.1\n"
      "origin = https://Mail.Example.test:8443\n"
      "daemon_timeout_seconds = 3\n";
  auto c = parse_config(text, "web.conf");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->listen.host, "::");
  EXPECT_EQ(c->listen.port, 8443);
  EXPECT_TRUE(c->tls());
  EXPECT_EQ(c->tls_certificate, "/etc/ssl/web.pem");
  EXPECT_EQ(c->tls_key, "/etc/ssl/private/web.key");
  EXPECT_EQ(c->daemon_socket, "/tmp/x/touchpassd.sock");
  EXPECT_EQ(c->static_dir, "/tmp/x/static");
  EXPECT_EQ(c->max_connections, 100);
  EXPECT_EQ(c->max_connections_per_address, 4);
  EXPECT_EQ(c->request_timeout, std::chrono::seconds(7));
  EXPECT_EQ(c->max_body_bytes, 1000u);
  EXPECT_EQ(c->rate_limit_per_minute, 30);
  EXPECT_EQ(c->trusted_proxy, "192.0.2.1");
  EXPECT_EQ(c->origin, "https://mail.example.test:8443");
  EXPECT_EQ(c->daemon_timeout, std::chrono::seconds(3));
  EXPECT_EQ(config_keys().size(), 19u);
}

struct BadCase {
  const char* text;
  const char* expected;  // the whole error message
};

class WebConfigRefuses : public ::testing::TestWithParam<BadCase> {};

TEST_P(WebConfigRefuses, WithTheFileTheLineAndTheReason) {
  auto c = parse_config(GetParam().text, "web.conf");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.code(), Code::invalid_argument);
  EXPECT_EQ(c.error().message, GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    BadFiles, WebConfigRefuses,
    ::testing::Values(
        BadCase{"listen = 127.0.0.1:8080\n\nport = 80\n", "web.conf:3: unknown key \"port\""},
        BadCase{"max_connections = 10\nmax_connections = 11\n",
                "web.conf:2: \"max_connections\" is set twice"},
        BadCase{"listen\n", "web.conf:1: expected `key = value`"},
        BadCase{"listen = localhost:80\n",
                "web.conf:1: bad value for \"listen\": expected HOST:PORT with an IP address (IPv6 "
                "in brackets, e.g. [::1]:8443) or unix:/absolute/path, not \"localhost:80\""},
        BadCase{"listen = 127.0.0.1:65536\n",
                "web.conf:1: bad value for \"listen\": expected HOST:PORT with an IP address (IPv6 "
                "in brackets, e.g. [::1]:8443) or unix:/absolute/path, not \"127.0.0.1:65536\""},
        BadCase{"static_dir = relative/dir\n",
                "web.conf:1: bad value for \"static_dir\": expected an absolute path"},
        BadCase{"max_body_bytes = 2000000\n",
                "web.conf:1: bad value for \"max_body_bytes\": expected a whole number from 1 to "
                "1048576"},
        BadCase{"rate_limit_per_minute = 0\n",
                "web.conf:1: bad value for \"rate_limit_per_minute\": expected a whole number "
                "from 1 to 1000000"},
        BadCase{"request_timeout_seconds = 5s\n",
                "web.conf:1: bad value for \"request_timeout_seconds\": expected a whole number "
                "from 1 to 3600"},
        BadCase{"trusted_proxy = proxy.example.org\n",
                "web.conf:1: bad value for \"trusted_proxy\": expected an IP address or unix"},
        BadCase{"listen = 0.0.0.0:8443\n",
                "web.conf: listen = 0.0.0.0:8443 is reachable from other machines, and "
                "touchpass-web never serves plain HTTP there: set tls_certificate and tls_key, "
                "or listen on a loopback address or a Unix socket behind a reverse proxy that "
                "serves HTTPS."},
        BadCase{"listen = [2001:db8::1]:443\n",
                "web.conf: listen = [2001:db8::1]:443 is reachable from other machines, and "
                "touchpass-web never serves plain HTTP there: set tls_certificate and tls_key, "
                "or listen on a loopback address or a Unix socket behind a reverse proxy that "
                "serves HTTPS."},
        BadCase{"tls_certificate = /etc/ssl/web.pem\n",
                "web.conf: tls_certificate and tls_key go together: set both, or neither."},
        BadCase{"trusted_proxy = unix\n",
                "web.conf: trusted_proxy = unix needs listen = unix:/path."},
        BadCase{"max_connections = 4\nmax_connections_per_address = 5\n",
                "web.conf: max_connections_per_address is larger than max_connections."}));

TEST(WebConfig, PlainHttpIsAllowedOnLoopbackAndUnixSockets) {
  for (const char* text : {"listen = 127.0.0.1:8080\n", "listen = 127.3.4.5:1\n",
                           "listen = [::1]:8080\n", "listen = [::ffff:127.0.0.1]:8080\n",
                           "listen = unix:/run/touchpass-web/web.sock\ntrusted_proxy = unix\n"}) {
    auto c = parse_config(text, "web.conf");
    EXPECT_TRUE(c.ok()) << text << (c.ok() ? "" : c.error().message);
  }
}

TEST(WebConfig, TlsMakesAnyAddressUsable) {
  auto c = parse_config(
      "listen = 0.0.0.0:8443\ntls_certificate = /a/cert.pem\ntls_key = /a/key.pem\n", "web.conf");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(c->tls());
}

TEST(WebConfig, LoadsAFileAndTreatsAMissingDefaultFileAsDefaults) {
  testing::TempDir dir;
  const auto path = dir.path() / "web.conf";
  auto missing = load_config(path, /*missing_ok=*/true);
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->rate_limit_per_minute, 120);
  auto required = load_config(path, /*missing_ok=*/false);
  ASSERT_FALSE(required.ok());
  EXPECT_EQ(required.code(), Code::io_error);

  std::ofstream(path) << "rate_limit_per_minute = 7\nbogus = 1\n";
  auto bad = load_config(path, false);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, path.string() + ":2: unknown key \"bogus\"");
  std::ofstream(path) << "rate_limit_per_minute = 7\n";
  auto good = load_config(path, false);
  ASSERT_TRUE(good.ok()) << good.error().message;
  EXPECT_EQ(good->rate_limit_per_minute, 7);
}

}  // namespace
}  // namespace touchpass::web

namespace touchpass::web {
namespace {

// The installed /etc/touchpass/web.conf: every key, commented out, with its built-in default.
TEST(WebConfig, TheInstalledFileShowsEveryKeyWithItsDefault) {
  std::ifstream in(TOUCHPASS_WEB_DEFAULT_CONFIG);
  ASSERT_TRUE(in) << TOUCHPASS_WEB_DEFAULT_CONFIG;
  std::ostringstream read;
  read << in.rdbuf();
  const std::string text = read.str();
  auto as_installed = parse_config(text, "web.conf");
  ASSERT_TRUE(as_installed.ok()) << as_installed.error().message;
  // Uncommented (without the TLS example, which is no default), it still gives the defaults.
  std::string uncommented;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    for (std::string_view key : config_keys()) {
      if (line.starts_with("#" + std::string(key) + " =")) {
        EXPECT_TRUE(uncommented.find("\n" + std::string(key) + " =") == std::string::npos);
        // Empty in the file: their defaults come from origin.
        const bool from_origin = line == "#origin =" || line == "#mail_domain =" ||
                                 line == "#imap_server =" || line == "#smtp_server =";
        if (!key.starts_with("tls_") && line != "#trusted_proxy =" && !from_origin) {
          uncommented += "\n" + line.substr(1);
        }
      }
    }
  }
  for (std::string_view key : config_keys()) {
    EXPECT_NE(text.find("\n#" + std::string(key) + " ="), std::string::npos)
        << "web.conf does not show " << key;
  }
  auto defaults = parse_config(uncommented, "uncommented web.conf");
  ASSERT_TRUE(defaults.ok()) << defaults.error().message;
  const Config built_in;
  EXPECT_EQ(defaults->listen.to_string(), built_in.listen.to_string());
  EXPECT_EQ(defaults->daemon_socket, built_in.daemon_socket);
  EXPECT_EQ(defaults->static_dir, built_in.static_dir);
  EXPECT_EQ(defaults->max_connections, built_in.max_connections);
  EXPECT_EQ(defaults->max_connections_per_address, built_in.max_connections_per_address);
  EXPECT_EQ(defaults->request_timeout, built_in.request_timeout);
  EXPECT_EQ(defaults->max_body_bytes, built_in.max_body_bytes);
  EXPECT_EQ(defaults->rate_limit_per_minute, built_in.rate_limit_per_minute);
  EXPECT_EQ(defaults->mail_keys.imap_security, built_in.mail_keys.imap_security);
  EXPECT_EQ(defaults->mail_keys.smtp_security, built_in.mail_keys.smtp_security);
  EXPECT_EQ(defaults->mail_keys.login, built_in.mail_keys.login);
}

}  // namespace
}  // namespace touchpass::web
