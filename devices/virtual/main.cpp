// touchpass-virtual-token: serves one virtual CTAP2.1 token on a Unix SOCK_SEQPACKET socket
// (DESIGN.md §4.3) until SIGTERM or SIGINT. A development and test device, not for real use.
//
// Exit codes: 0 after a clean stop, 1 when the state or the socket cannot be set up, 2 on bad
// arguments.
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "devices/virtual/authenticator.h"
#include "devices/virtual/server.h"

namespace {

using touchpass::vtoken::Authenticator;
using touchpass::vtoken::Config;
using touchpass::vtoken::Fault;
using touchpass::vtoken::PresencePolicy;
using touchpass::vtoken::VirtualTokenServer;

constexpr std::string_view kProgram = "touchpass-virtual-token";

constexpr std::string_view kUsage =
    "usage: touchpass-virtual-token --socket PATH --state FILE [options]\n"
    "\n"
    "Serves a virtual FIDO2 (CTAP2.1) token on a Unix SOCK_SEQPACKET socket until SIGTERM or\n"
    "SIGINT. A development and test device, not for real use.\n"
    "\n"
    "  --socket PATH             the socket to serve (its directory must exist)\n"
    "  --state FILE              credentials, PIN and counters; created when missing\n"
    "  --presence MODE           touch requests: approve (default), deny, or delay:MS\n"
    "  --pin PIN                 the PIN of a newly created state file\n"
    "  --no-hmac-secret          do not offer the hmac-secret extension\n"
    "  --ctap20                  behave as a CTAP 2.0 token\n"
    "  --pin-protocol1-only      offer PIN/UV auth protocol 1 only\n"
    "  --self-attestation        packed self attestation (no certificate)\n"
    "  --fault KIND              corrupt replies: truncated, wrong-length, bad-cbor,\n"
    "                            huge-array or huge-array-in-authdata\n"
    "  --help                    show this text\n";

struct Arguments {
  std::filesystem::path socket;
  std::filesystem::path state;
  PresencePolicy presence;
  Config config;
  bool help = false;
};

std::optional<Fault> parse_fault(std::string_view text) {
  if (text == "truncated") return Fault::truncated;
  if (text == "wrong-length") return Fault::wrong_length;
  if (text == "bad-cbor") return Fault::bad_cbor;
  if (text == "huge-array") return Fault::huge_array;
  if (text == "huge-array-in-authdata") return Fault::huge_array_in_auth_data;
  return std::nullopt;
}

// Parses argv; on error prints a message to stderr and returns nullopt.
std::optional<Arguments> parse_arguments(int argc, char** argv) {
  Arguments args;
  auto fail = [](const std::string& message) -> std::optional<Arguments> {
    std::cerr << kProgram << ": " << message << "\n(try --help)\n";
    return std::nullopt;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view option = argv[i];
    const auto takes_value = option == "--socket" || option == "--state" ||
                             option == "--presence" || option == "--pin" || option == "--fault";
    std::string_view value;
    if (takes_value) {
      if (i + 1 >= argc) return fail("option " + std::string(option) + " needs a value");
      value = argv[++i];
    }
    if (option == "--help" || option == "-h") {
      args.help = true;
    } else if (option == "--socket") {
      args.socket = value;
    } else if (option == "--state") {
      args.state = value;
    } else if (option == "--presence") {
      auto presence = PresencePolicy::parse(value);
      if (!presence) {
        return fail("--presence must be approve, deny or delay:MS, not '" + std::string(value) +
                    "'");
      }
      args.presence = *presence;
    } else if (option == "--pin") {
      args.config.initial_pin = std::string(value);
    } else if (option == "--no-hmac-secret") {
      args.config.hmac_secret = false;
    } else if (option == "--ctap20") {
      args.config.ctap21 = false;
    } else if (option == "--pin-protocol1-only") {
      args.config.pin_protocols = {1};
    } else if (option == "--self-attestation") {
      args.config.self_attestation = true;
    } else if (option == "--fault") {
      auto fault = parse_fault(value);
      if (!fault) {
        return fail(
            "--fault must be truncated, wrong-length, bad-cbor, huge-array or "
            "huge-array-in-authdata, not '" +
            std::string(value) + "'");
      }
      args.config.fault = *fault;
    } else {
      return fail("unknown argument '" + std::string(option) + "'");
    }
  }
  if (args.help) return args;
  if (args.socket.empty()) return fail("--socket PATH is required");
  if (args.state.empty()) return fail("--state FILE is required");
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  const std::optional<Arguments> args = parse_arguments(argc, argv);
  if (!args) return 2;
  if (args->help) {
    std::cout << kUsage;
    return 0;
  }

  // Block the stop signals before any thread starts, so that every thread inherits the mask and
  // only the sigwait() below receives them. SIGPIPE cannot happen (MSG_NOSIGNAL) but is ignored
  // for good measure.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  if (int error = pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr); error != 0) {
    std::cerr << kProgram << ": cannot block signals: " << std::strerror(error) << "\n";
    return 1;
  }
  ::signal(SIGPIPE, SIG_IGN);

  auto authenticator = Authenticator::open(args->config, args->state);
  if (!authenticator) {
    std::cerr << kProgram << ": " << authenticator.error().message << "\n";
    return 1;
  }
  auto server = VirtualTokenServer::start(
      args->socket, std::shared_ptr<Authenticator>(std::move(*authenticator)), args->presence);
  if (!server) {
    std::cerr << kProgram << ": " << server.error().message << "\n";
    return 1;
  }
  std::cerr << kProgram << ": serving " << args->socket.string()
            << " (development token, not for real use)" << std::endl;

  int signal_number = 0;
  if (int error = sigwait(&stop_signals, &signal_number); error != 0) {
    std::cerr << kProgram << ": cannot wait for signals: " << std::strerror(error) << "\n";
  }
  (*server)->stop();
  return 0;
}
