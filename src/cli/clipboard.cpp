#include "cli/clipboard.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <optional>

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
      {"wl-copy", {}},
      {"xclip", {"-selection", "clipboard"}},
      {"xsel", {"--clipboard", "--input"}},
  };
  return tools;
}

Result<std::string> copy_to_clipboard(std::string_view secret, std::span<const ClipboardTool> tools,
                                      std::string_view search_path) {
  bool any_found = false;
  for (const auto& tool : tools) {
    const auto program = find_program(tool.name, search_path);
    if (!program) continue;
    any_found = true;
    if (run_with_input(*program, tool, secret)) return tool.name;
  }
  if (!any_found) {
    return Error{Code::not_found, "No clipboard tool (wl-copy, xclip or xsel) is installed."};
  }
  return Error{Code::io_error, "Copying to the clipboard failed."};
}

}  // namespace touchpass::cli
