#include "cli/commands.h"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <ctime>
#include <sstream>

#include "cli/runner.h"
#include "cli/user_config.h"

namespace touchpass::cli {

Environment process_environment(Console& console, CancelFlag& cancel) {
  const char* path = std::getenv("PATH");
  return Environment{
      .console = console,
      .cancel = cancel,
      .make_pins = [&cancel](bool pin_stdin) { return make_pin_source(pin_stdin, cancel); },
      .now = [] { return static_cast<std::int64_t>(std::time(nullptr)); },
      .clipboard_tools = default_clipboard_tools(),
      .search_path = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin",
      .catch_signals = true,
      .timing = {},
      .remote_timing = {},
      .config_file = user_config_path(std::getenv("XDG_CONFIG_HOME"), std::getenv("HOME")),
      .password_fd = STDIN_FILENO,
  };
}

int run_touchpass(std::span<const std::string> args, Environment& env) {
  Options options;
  CLI::App app{"touchpass: app passwords derived from your security key", "touchpass"};
  app.set_version_flag("--version", "touchpass " TOUCHPASS_VERSION, "Print the version and exit");
  const auto commands = define_commands(app, options);

  std::vector<const char*> argv;
  for (const auto& arg : args) argv.push_back(arg.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    std::ostringstream out;
    std::ostringstream err;
    const int code = app.exit(e, out, err);
    env.console.out(out.str());
    env.console.err(err.str());
    return code == 0 ? to_int(ExitCode::success) : to_int(ExitCode::usage);
  }

  auto config = read_user_config(env.config_file);
  if (!config.ok()) {
    env.console.err(config.error().message + "\n");
    return to_int(config.code() == Code::io_error ? ExitCode::general : ExitCode::usage);
  }
  const bool socket_given = app.get_option("--socket")->count() > 0;
  const ServerChoice server =
      choose_server(options.server_flag, options.server_pin_flag, socket_given, *config);
  if (options.server_pin_flag && server.server.empty()) {
    env.console.err("--server-pin is for a server: give --server too.\n");
    return to_int(ExitCode::usage);
  }
  options.server = server.server;
  options.server_pin = server.pin;
  options.server_from_flag = server.from_flag;

  Runner runner(env, options);
  for (const auto& [sub, run] : commands) {
    if (sub->parsed()) return runner.run(run);
  }
  return to_int(ExitCode::usage);
}

}  // namespace touchpass::cli
