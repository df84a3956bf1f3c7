#include "support/qr_reader.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace touchpass::testing {

namespace {

constexpr int kPixelsPerModule = 6;
constexpr std::string_view kDrawn = "\x1b[30;47m";

// The program's standard output and exit status; nullopt when it cannot be run.
std::optional<std::pair<int, std::string>> run(const std::vector<std::string>& argv) {
  int out[2];
  if (::pipe(out) != 0) return std::nullopt;
  const pid_t pid = ::fork();
  if (pid < 0) return std::nullopt;
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::close(out[0]);
    ::close(out[1]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(out[1]);
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = ::read(out[0], buffer, sizeof buffer)) > 0;) {
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) == 127) return std::nullopt;
  return std::make_pair(WEXITSTATUS(status), text);
}

// The rows of modules the drawn lines show: each character is two modules, top and bottom.
std::vector<std::vector<bool>> modules_of(const std::string& terminal_text) {
  std::vector<std::vector<bool>> rows;
  std::istringstream lines(terminal_text);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.starts_with(kDrawn)) continue;
    line = line.substr(kDrawn.size());
    std::vector<bool> top, bottom;
    for (std::size_t i = 0; i < line.size();) {
      if (line[i] == '\x1b') break;  // the reset at the end of the line
      if (line[i] == ' ') {
        top.push_back(false);
        bottom.push_back(false);
        ++i;
        continue;
      }
      const std::string glyph = line.substr(i, 3);
      top.push_back(glyph == "\u2588" || glyph == "\u2580");
      bottom.push_back(glyph == "\u2588" || glyph == "\u2584");
      i += 3;
    }
    rows.push_back(std::move(top));
    rows.push_back(std::move(bottom));
  }
  return rows;
}

}  // namespace

bool zbarimg_available() {
  const auto ran = run({"zbarimg", "--version"});
  return ran.has_value() && ran->first == 0;
}

std::optional<std::string> read_terminal_qr(const std::string& terminal_text, std::string* why) {
  const auto rows = modules_of(terminal_text);
  if (rows.empty() || rows.front().empty()) {
    *why = "no QR code is drawn in the text";
    return std::nullopt;
  }
  const std::size_t width = rows.front().size() * kPixelsPerModule;
  const std::size_t height = rows.size() * kPixelsPerModule;
  char dir_template[] = "/tmp/touchpass-qr-XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) {
    *why = "cannot make a temporary directory";
    return std::nullopt;
  }
  const std::filesystem::path dir(dir_template);
  const std::filesystem::path image = dir / "code.pgm";
  {
    std::ofstream out(image, std::ios::binary);
    out << "P5\n" << width << ' ' << height << "\n255\n";
    for (const auto& row : rows) {
      std::string pixels;
      for (std::size_t x = 0; x < width; ++x) {
        const std::size_t module = x / kPixelsPerModule;
        const bool dark = module < row.size() && row[module];
        pixels.push_back(dark ? '\0' : static_cast<char>(255));
      }
      for (int i = 0; i < kPixelsPerModule; ++i) out << pixels;
    }
  }
  const auto ran = run({"zbarimg", "--quiet", "--raw", image.string()});
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  if (!ran) {
    *why = "zbarimg cannot be run";
    return std::nullopt;
  }
  if (ran->first != 0) {
    *why = "zbarimg found no code (exit " + std::to_string(ran->first) + ")";
    return std::nullopt;
  }
  std::string text = ran->second;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

}  // namespace touchpass::testing
