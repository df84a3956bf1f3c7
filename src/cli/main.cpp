// touchpass: the command-line client of touchpassd. See README.md and `touchpass --help`.
#include <exception>
#include <string>
#include <vector>

#include "cli/cancel.h"
#include "cli/commands.h"
#include "cli/console.h"
#include "cli/exit_code.h"

int main(int argc, char** argv) {
  using namespace touchpass::cli;
  StdConsole console;
  CancelFlag cancel;
  Environment env = process_environment(console, cancel);
  try {
    const std::vector<std::string> args(argv, argv + argc);
    return run_touchpass(args, env);
  } catch (const std::exception& e) {
    console.err(std::string("touchpass: unexpected error: ") + e.what() + "\n");
    return to_int(ExitCode::general);
  }
}
