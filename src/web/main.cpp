// touchpass-web: the HTTPS gateway between browsers (and remote CLIs) and touchpassd
// (DESIGN.md §2, §6). It holds no store and no pepper; it serves the self-service page and the
// JSON API (API.md) and, for the ceremonies to come, relays them to touchpassd's socket.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "web/config.h"
#include "web/listener.h"
#include "web/log.h"
#include "web/server.h"
#include "web/static_files.h"
#include "web/tls_credentials.h"

namespace {

using namespace touchpass;
using namespace touchpass::web;

constexpr const char* kDefaultConfig = "/etc/touchpass/web.conf";

// The TLS key is in this process's memory: no core dumps of it, no ptrace by the same user.
void keep_memory_private() {
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  const rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
}

int fail(std::string_view message) {
  log(LogLevel::error, message);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app(
      "The touchpass HTTPS gateway: serves the self-service page and the JSON API, and speaks "
      "the local protocol to touchpassd.",
      "touchpass-web");
  std::string config_path = kDefaultConfig;
  bool check_only = false;
  const auto* config_option =
      app.add_option("--config", config_path,
                     "configuration file (default /etc/touchpass/web.conf; when the default file "
                     "does not exist, built-in defaults are used)");
  app.add_flag("--check-config", check_only,
               "check the configuration, the TLS files and the static directory, then exit (0: "
               "usable)");
  app.set_version_flag("--version", "touchpass-web " TOUCHPASS_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // 2: a usage error, as touchpassd's
  }
  const bool explicit_config = config_option->count() > 0;

  keep_memory_private();
  ::umask(077);
  auto config = load_config(config_path, !explicit_config);
  if (!config.ok()) return fail(config.error().message);
  std::optional<TlsCredentials> tls;
  if (config->tls()) {
    auto loaded = load_tls_credentials(config->tls_certificate, config->tls_key);
    if (!loaded.ok()) return fail(loaded.error().message);
    tls = std::move(*loaded);
  }
  if (check_only) {
    if (auto files = StaticFiles::open(config->static_dir); !files.ok()) {
      return fail(files.error().message);
    }
    std::cout << "touchpass-web: the configuration is usable ("
              << (config->tls() ? "HTTPS" : "plain HTTP behind a reverse proxy") << " on "
              << config->listen.to_string() << ").\n";
    return 0;
  }

  // SIGTERM and SIGINT are taken synchronously below; the server's threads inherit the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  ::pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  auto listener = Listener::open(config->listen);
  if (!listener.ok()) return fail(listener.error().message);
  ListenAddress bound = config->listen;
  if (bound.kind == ListenAddress::Kind::tcp) bound.port = listener->port();
  auto server = Server::start(*config, std::move(*listener), std::move(tls));
  if (!server.ok()) return fail(server.error().message);
  log(LogLevel::info,
      std::string("listening on ") + (config->tls() ? "https://" : "http://") + bound.to_string());

  int signal_number = 0;
  while (::sigwait(&signals, &signal_number) != 0) {
  }
  log(LogLevel::info, std::string("stopping (") + ::strsignal(signal_number) + ")");
  server->reset();
  return 0;
}
