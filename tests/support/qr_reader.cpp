#include "support/qr_reader.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace touchpass::testing {

namespace {

constexpr std::size_t kPixelsPerModule = 6;
constexpr std::size_t kQuietZone = 4;
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

namespace {

// Writes `image` as `name` in a temporary directory and decodes it with zbarimg.
std::optional<std::string> decode_image(const std::string& name, const std::string& image,
                                        std::string* why) {
  char dir_template[] = "/tmp/touchpass-qr-XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) {
    *why = "cannot make a temporary directory";
    return std::nullopt;
  }
  const std::filesystem::path dir(dir_template);
  const std::filesystem::path file = dir / name;
  {
    std::ofstream out(file, std::ios::binary);
    out << image;
  }
  const auto ran = run({"zbarimg", "--quiet", "--raw", file.string()});
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

}  // namespace

std::optional<std::string> read_qr_modules(const std::vector<std::vector<bool>>& rows,
                                           std::string* why) {
  if (rows.empty() || rows.front().empty()) {
    *why = "there are no modules";
    return std::nullopt;
  }
  const std::size_t modules = rows.front().size() + 2 * kQuietZone;
  const std::size_t width = modules * kPixelsPerModule;
  std::ostringstream image;
  image << "P5\n" << width << ' ' << (rows.size() + 2 * kQuietZone) * kPixelsPerModule << "\n255\n";
  const std::string light_row(width * kPixelsPerModule, static_cast<char>(255));
  for (std::size_t i = 0; i < kQuietZone; ++i) image << light_row;
  for (const auto& row : rows) {
    std::string pixels(width, static_cast<char>(255));
    for (std::size_t x = 0; x < row.size(); ++x) {
      if (!row[x]) continue;
      const std::size_t left = (x + kQuietZone) * kPixelsPerModule;
      std::fill_n(pixels.begin() + static_cast<std::ptrdiff_t>(left), kPixelsPerModule, '\0');
    }
    for (std::size_t i = 0; i < kPixelsPerModule; ++i) image << pixels;
  }
  for (std::size_t i = 0; i < kQuietZone; ++i) image << light_row;
  return decode_image("code.pgm", image.str(), why);
}

std::optional<std::string> read_png_qr(const std::string& png, std::string* why) {
  return decode_image("code.png", png, why);
}

std::optional<std::string> read_terminal_qr(const std::string& terminal_text, std::string* why) {
  const auto rows = modules_of(terminal_text);
  if (rows.empty() || rows.front().empty()) {
    *why = "no QR code is drawn in the text";
    return std::nullopt;
  }
  return read_qr_modules(rows, why);
}

}  // namespace touchpass::testing
