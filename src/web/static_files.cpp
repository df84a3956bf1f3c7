#include "web/static_files.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace touchpass::web {

namespace {

constexpr std::size_t kMaxComponents = 8;
constexpr std::size_t kMaxComponentLength = 128;

Error not_found() {
  return Error{Code::not_found, "There is no such page."};
}

bool acceptable_component(std::string_view c) {
  if (c.empty() || c.size() > kMaxComponentLength || c.front() == '.') return false;
  for (char ch : c) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string_view content_type_for(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 9> kTypes = {{
      {".html", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/vnd.microsoft.icon"},
      {".txt", "text/plain; charset=utf-8"},
      {".woff2", "font/woff2"},
  }};
  for (const auto& [extension, type] : kTypes) {
    if (name.size() > extension.size() && name.ends_with(extension)) return type;
  }
  return {};
}

Result<StaticFiles> StaticFiles::open(const std::filesystem::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    return Error{Code::io_error, "Cannot open the static directory " + dir.string() + ": " +
                                     std::strerror(errno) + "."};
  }
  return StaticFiles(std::move(fd));
}

Result<StaticFile> StaticFiles::find(std::string_view url_path) const {
  if (!url_path.starts_with('/')) return not_found();
  std::string path(url_path.substr(1));
  if (path.empty() || path.ends_with('/')) path += "index.html";
  std::vector<std::string_view> components;
  for (std::size_t start = 0; start <= path.size();) {
    const std::size_t slash = std::min(path.find('/', start), path.size());
    components.emplace_back(std::string_view(path).substr(start, slash - start));
    start = slash + 1;
  }
  if (components.size() > kMaxComponents) return not_found();
  for (std::string_view c : components) {
    if (!acceptable_component(c)) return not_found();
  }
  const std::string_view type = content_type_for(components.back());
  if (type.empty()) return not_found();

  // Walk down one component at a time, never following a link.
  UniqueFd current;
  int at = dir_.get();
  for (std::size_t i = 0; i + 1 < components.size(); ++i) {
    const std::string name(components[i]);
    current.reset(::openat(at, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!current.valid()) return not_found();
    at = current.get();
  }
  const std::string name(components.back());
  UniqueFd file(
      ::openat(at, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  struct stat st {};
  if (!file.valid() || ::fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return not_found();
  }
  return StaticFile{std::move(file), static_cast<std::uint64_t>(st.st_size), type};
}

}  // namespace touchpass::web
