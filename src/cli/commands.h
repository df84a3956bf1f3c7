// The touchpass command line: argument parsing (CLI11) and one function per command, each
// translating between a person and one or two IPC requests. Everything the commands touch
// outside the socket — output, PIN input, the clock, signals, clipboard programs — comes from
// an Environment, so tests can run whole commands against a fake daemon.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "cli/cancel.h"
#include "cli/client.h"
#include "cli/clipboard.h"
#include "cli/console.h"
#include "cli/prompt.h"
#include "cli/remote_channel.h"

namespace touchpass::cli {

struct Environment {
  Console& console;
  CancelFlag& cancel;
  // The PIN source for an interactive command; the argument is --pin-stdin.
  std::function<std::unique_ptr<PinSource>(bool pin_stdin)> make_pins;
  // The current time in Unix seconds (for --expires durations).
  std::function<std::int64_t()> now;
  // Where --copy copies to: clipboard programs, the PATH to find them in, the displays set.
  ClipboardPlace clipboard;
  // Route SIGINT, SIGTERM, SIGHUP and SIGQUIT to `cancel` while an interactive request runs.
  bool catch_signals = true;
  ExchangeTiming timing;
  // Timeouts of the requests to touchpass-web (--server).
  RemoteTiming remote_timing;
  // The user's configuration file (user_config.h); empty: none.
  std::filesystem::path config_file;
  // Where `verify` reads the password (one line).
  int password_fd = STDIN_FILENO;
};

// The environment of this process: StdConsole-like `console`, /dev/tty or stdin for PINs, the
// system clock, the default clipboard tools, $PATH and the display variables set, and the
// configuration file in $XDG_CONFIG_HOME or ~/.config.
Environment process_environment(Console& console, CancelFlag& cancel);

// Parses `args` (args[0] is the program name) with the settings of env.config_file, runs the
// command and returns the process exit status (an ExitCode). Errors are printed to
// env.console.err().
int run_touchpass(std::span<const std::string> args, Environment& env);

}  // namespace touchpass::cli
