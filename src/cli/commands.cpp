#include "cli/commands.h"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli/did_you_mean.h"
#include "cli/format.h"
#include "cli/runner.h"
#include "cli/user_config.h"

namespace touchpass::cli {

namespace {

// The first of `args` (after the program name) that is neither one of `app`'s own options nor
// the value of one: the word that should name a command. nullopt when there is none.
std::optional<std::string> command_word(const CLI::App& app, std::span<const std::string> args) {
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") return i + 1 < args.size() ? std::optional(args[i + 1]) : std::nullopt;
    if (arg.size() < 2 || arg.front() != '-') return arg;
    if (arg.find('=') != std::string::npos) continue;
    const CLI::Option* option = app.get_option_no_throw(arg);
    if (option != nullptr && option->get_expected_min() > 0) ++i;  // its value
  }
  return std::nullopt;
}

// The commands `touchpass --help` lists (not the hidden ones).
std::vector<std::string> visible_commands(CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    if (!sub->get_name().empty() && !sub->get_group().empty()) names.push_back(sub->get_name());
  }
  return names;
}

// What a command line without a command is told.
std::string short_usage(const std::vector<std::string>& commands) {
  std::string text = "Usage: touchpass [OPTIONS] COMMAND [ARGS]...\nCommands:";
  for (const auto& name : commands) text += " " + name;
  return text + "\n`touchpass --help` describes them, `touchpass COMMAND --help` their options.\n";
}

}  // namespace

Environment process_environment(Console& console, CancelFlag& cancel) {
  const char* path = std::getenv("PATH");
  return Environment{
      .console = console,
      .cancel = cancel,
      .make_pins = [&cancel](bool pin_stdin) { return make_pin_source(pin_stdin, cancel); },
      .now = [] { return static_cast<std::int64_t>(std::time(nullptr)); },
      .clipboard = {.tools = default_clipboard_tools(),
                    .search_path = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin",
                    .displays = display_variables_set(default_clipboard_tools())},
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
    if (e.get_exit_code() != 0 && app.get_subcommands().empty()) {
      const auto visible = visible_commands(app);
      const auto word = command_word(app, args);
      const auto named = [&](CLI::App* sub) { return word && sub->get_name() == *word; };
      if (word && app.get_subcommands(named).empty()) {
        std::string message = "Unknown command \"" + printable(*word) + "\".";
        if (const auto near = nearest_word(*word, visible)) {
          message += " Did you mean \"" + *near + "\"?";
        }
        env.console.err(message + "\n`touchpass --help` lists the commands.\n");
        return to_int(ExitCode::usage);
      }
      if (!word && dynamic_cast<const CLI::RequiredError*>(&e) != nullptr) {
        env.console.err(short_usage(visible));
        return to_int(ExitCode::usage);
      }
    }
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
