// touchpassd: owns the store, the pepper and the only socket; proves users with their security
// keys and issues app passwords (DESIGN.md §6).
#include <malloc.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "core/fd.h"
#include "daemon/admission.h"
#include "daemon/audit_anchor.h"
#include "daemon/config.h"
#include "daemon/instance_lock.h"
#include "daemon/log.h"
#include "daemon/pepper.h"
#include "daemon/server.h"
#include "daemon/service.h"
#include "daemon/store_opening.h"
#include "store/integrity.h"

namespace {

using namespace touchpass;
using namespace touchpass::daemon;

constexpr const char* kDefaultConfig = "/etc/touchpass/touchpassd.conf";
constexpr std::chrono::milliseconds kMaxFailureDelay{5000};
constexpr std::chrono::milliseconds kRecordInterval{5000};
// Descriptors kept free beyond one per connection: the store's connections, the token broker,
// hot-plug, logs and user-database look-ups.
constexpr long kSpareDescriptors = 64;

constexpr const char* kUsage =
    "Usage: touchpassd [--config FILE]\n"
    "\n"
    "The touchpass daemon: proves users with their security keys and issues app passwords.\n"
    "\n"
    "  --config FILE   configuration file (default /etc/touchpass/touchpassd.conf; when the\n"
    "                  default file does not exist, built-in defaults are used)\n"
    "  --help          show this help\n"
    "  --version       show the version\n";

// No core dumps (they would hold PINs and derived secrets) and private files by default.
void harden_process() {
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  const rlimit none{0, 0};
  ::setrlimit(RLIMIT_CORE, &none);
  ::umask(077);
}

// Creates `dir` (and its parents) with `mode` if it does not exist.
Status ensure_directory(const std::filesystem::path& dir, mode_t mode) {
  if (dir.empty()) return {};
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return {};
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Status(Code::io_error, "Cannot create " + dir.string() + ": " + ec.message() + ".");
  }
  ::chmod(dir.c_str(), mode);
  return {};
}

int fail(const std::string& message) {
  log_error(message);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path config_path = kDefaultConfig;
  bool explicit_config = false;
  const std::vector<std::string> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (args[i] == "--version") {
      std::cout << "touchpassd " TOUCHPASS_VERSION "\n";
      return 0;
    }
    if (args[i] == "--config" && i + 1 < args.size()) {
      config_path = args[++i];
      explicit_config = true;
      continue;
    }
    std::cerr << "touchpassd: unknown argument \"" << args[i] << "\"\n\n" << kUsage;
    return 2;
  }

  harden_process();
  // Threads serve connections; a few malloc arenas are enough and keep memory small.
  ::mallopt(M_ARENA_MAX, 2);
  const long descriptors = raise_descriptor_limit();
  auto config = load_config(config_path, !explicit_config);
  if (!config.ok()) return fail(config.error().message);

  // Signals are taken synchronously through a signalfd; every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  ::pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  const UniqueFd stop_fd(::signalfd(-1, &signals, SFD_CLOEXEC));
  if (!stop_fd.valid()) return fail(std::string("signalfd: ") + std::strerror(errno));

  for (const auto& [dir, mode] :
       {std::pair{config->store.parent_path(), 0700}, std::pair{config->pepper.parent_path(), 0700},
        std::pair{config->socket.parent_path(), 0755}}) {
    if (Status s = ensure_directory(dir, static_cast<mode_t>(mode)); !s.ok()) {
      return fail(std::string(s.message()));
    }
  }

  // One daemon per store (per host, for a shared PostgreSQL store): a second one refuses
  // here, naming the first.
  auto instance = InstanceLock::acquire(config->store);
  if (!instance.ok()) return fail(instance.error().message);
  auto opened = open_configured_store(*config);
  if (!opened.ok()) return fail(opened.error().message);
  auto& store = opened->store;
  log_info("the store: " + opened->name);
  auto pepper = load_pepper_for_store(config->pepper, *store, opened->name);
  if (!pepper.ok()) return fail(pepper.error().message);
  // Rows and the audit log under keys from the pepper; the log's head anchored outside.
  auto keys = store::StoreKeys::derive(pepper->bytes());
  if (!keys.ok()) return fail(keys.error().message);
  const AuditAnchor anchor(config->audit_anchor_path());
  if (Status s = protect_store(*store, std::move(*keys), anchor, std::time(nullptr)); !s.ok()) {
    return fail(std::string(s.message()));
  }

  // touchpassd opens no key (DESIGN.md §2): the client finds and drives it.
  if (!config->virtual_token_dir.empty()) {
    log_warning(
        "virtual_token_dir in touchpassd.conf is ignored: touchpassd opens no security key; the "
        "touchpass CLI finds them (--virtual-tokens, --no-usb)");
  }
  const auto clock = [] { return static_cast<store::UnixTime>(std::time(nullptr)); };
  auto locks = store->list_throttles();
  if (!locks.ok()) return fail(locks.error().message);
  ThrottlePolicy policy;
  policy.base_delay = config->failure_delay;
  policy.max_delay = kMaxFailureDelay;
  policy.source_failures = config->lockout_failures;
  policy.lockout = config->lockout;
  policy.user_failures = config->user_failures;
  // Several hosts on one store count failures in it (throttle.h).
  Throttle throttle(policy, *locks, clock(), store->shares_throttles() ? store.get() : nullptr);
  RefusalLog refusals;
  VerificationRecorder recorder(*store, throttle, refusals, kRecordInterval, clock);
  Service service(*config, *store, *store, throttle, refusals, recorder, std::move(*pepper), clock,
                  [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); });

  UniqueFd listen_fd = systemd_socket();
  const bool activated = listen_fd.valid();
  if (activated) {
    log_info("listening on the socket passed by systemd");
  } else {
    auto bound = bind_socket(config->socket);
    if (!bound.ok()) return fail(bound.error().message);
    listen_fd = std::move(*bound);
    log_info("listening on " + config->socket.string());
  }
  // The verification socket: root and the service group only (0660), or root only (0600)
  // while that group does not exist.
  IdentityCache ids;
  const std::filesystem::path verify_path = config->verify_socket_path();
  const std::optional<gid_t> service_gid = ids.group_id(config->service_group);
  auto verify_fd = bind_socket(verify_path, service_gid ? 0660 : 0600, service_gid);
  if (!verify_fd.ok()) return fail(verify_fd.error().message);
  log_info("verifications are served on " + verify_path.string() +
           (service_gid
                ? " for root and the group " + config->service_group
                : " for root only (the group " + config->service_group + " does not exist)"));

  const AdmissionLimits limits = fit_to_descriptors(
      {config->max_clients, config->max_clients_per_user, config->reserved_clients}, descriptors,
      kSpareDescriptors);
  log_info("serving up to " + std::to_string(limits.max_clients) + " connections (" +
           std::to_string(limits.per_user) + " per user, " + std::to_string(limits.reserved) +
           " reserved for root and " + config->service_group + ")");
  Server server(
      {{listen_fd.get(), false}, {verify_fd->get(), true}}, service, ids,
      {config->service_group, config->admin_group, config->token_group, config->gateway_group},
      limits);
  // Type=notify: systemd starts dependent units only now (no-op without NOTIFY_SOCKET).
  sd_notify(0, "READY=1\nSTATUS=Serving");
  server.run(stop_fd.get());
  sd_notify(0, "STOPPING=1");
  listen_fd.reset();
  verify_fd->reset();
  if (!activated) ::unlink(config->socket.c_str());
  ::unlink(verify_path.c_str());
  log_info("stopped");
  return 0;
}
