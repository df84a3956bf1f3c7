#include "cli/clipboard.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <utility>

#include "cli/fd.h"

namespace touchpass::cli {

namespace {

// The full path of `program` in the colon-separated `search_path`, if executable there.
std::optional<std::string> find_program(std::string_view program, std::string_view search_path) {
  while (true) {
    const auto colon = search_path.find(':');
    std::string dir(search_path.substr(0, colon));
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + std::string(program);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string_view::npos) return std::nullopt;
    search_path.remove_prefix(colon + 1);
  }
}

// Writes `secret` to `fd` with SIGPIPE blocked, so a tool that exits early yields EPIPE
// instead of killing us; a SIGPIPE left pending is discarded.
bool write_without_sigpipe(int fd, std::string_view secret) {
  sigset_t pipe_only;
  sigset_t previous;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe_only, &previous);
  const bool written = write_all(fd, secret);
  const timespec no_wait{};
  while (::sigtimedwait(&pipe_only, nullptr, &no_wait) == SIGPIPE) {
  }
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return written;
}

// Runs `program` with `args`, `secret` on its standard input and its output discarded (a tool
// that stays in the background to serve the selection must not hold our stdout open).
// True when it exits with status 0.
bool run_with_input(const std::string& program, const ClipboardTool& tool,
                    std::string_view secret) {
  std::vector<std::string> words = {tool.name};
  words.insert(words.end(), tool.args.begin(), tool.args.end());
  std::vector<char*> argv;
  for (auto& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return false;
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);
  const pid_t child = ::fork();
  if (child < 0) return false;
  if (child == 0) {
    // Only async-signal-safe calls between fork and exec.
    const int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (::dup2(read_end.get(), STDIN_FILENO) < 0 || null_fd < 0 ||
        ::dup2(null_fd, STDOUT_FILENO) < 0 || ::dup2(null_fd, STDERR_FILENO) < 0) {
      ::_exit(127);
    }
    ::execv(program.c_str(), argv.data());
    ::_exit(127);
  }
  read_end.reset();
  const bool written = write_without_sigpipe(write_end.get(), secret);
  write_end.reset();
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return false;
  }
  return written && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

const std::vector<ClipboardTool>& default_clipboard_tools() {
  static const std::vector<ClipboardTool> tools = {
      {"wl-copy", {}, "WAYLAND_DISPLAY"},
      {"xclip", {"-selection", "clipboard"}, "DISPLAY"},
      {"xsel", {"--clipboard", "--input"}, "DISPLAY"},
  };
  return tools;
}

std::vector<std::string> display_variables_set(std::span<const ClipboardTool> tools) {
  std::vector<std::string> set;
  for (const auto& tool : tools) {
    const char* value = std::getenv(tool.display_variable.c_str());
    if (value == nullptr || *value == '\0') continue;
    if (std::find(set.begin(), set.end(), tool.display_variable) == set.end()) {
      set.push_back(tool.display_variable);
    }
  }
  return set;
}

namespace {

// The tools of `place` that can be tried here, with their full paths; when there is none, the
// sentence saying why.
Result<std::vector<std::pair<std::string, const ClipboardTool*>>> usable_tools(
    const ClipboardPlace& place) {
  std::vector<std::pair<std::string, const ClipboardTool*>> usable;
  bool any_display = false;
  for (const auto& tool : place.tools) {
    if (std::find(place.displays.begin(), place.displays.end(), tool.display_variable) ==
        place.displays.end()) {
      continue;
    }
    any_display = true;
    if (auto program = find_program(tool.name, place.search_path)) {
      usable.emplace_back(std::move(*program), &tool);
    }
  }
  if (!usable.empty()) return usable;
  if (!any_display) {
    return Error{Code::not_found,
                 "There is no clipboard here: no graphical session (neither WAYLAND_DISPLAY nor "
                 "DISPLAY is set)."};
  }
  return Error{Code::not_found,
               "No clipboard tool for this session is installed (wl-copy for Wayland, xclip or "
               "xsel for X11)."};
}

}  // namespace

Status check_clipboard(const ClipboardPlace& place) {
  auto usable = usable_tools(place);
  if (!usable.ok()) return usable.error();
  return Status{};
}

Result<std::string> copy_to_clipboard(std::string_view secret, const ClipboardPlace& place) {
  auto usable = usable_tools(place);
  if (!usable.ok()) return usable.error();
  for (const auto& [program, tool] : *usable) {
    if (run_with_input(program, *tool, secret)) return tool->name;
  }
  return Error{Code::io_error, "Copying to the clipboard failed."};
}

}  // namespace touchpass::cli
