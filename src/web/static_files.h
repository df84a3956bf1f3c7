// The self-service page's files: only regular files below the static directory, found without
// following any symbolic link, with a content type from a short list of extensions.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "core/fd.h"
#include "core/status.h"

namespace touchpass::web {

struct StaticFile {
  UniqueFd fd;  // open for reading
  std::uint64_t size = 0;
  std::string_view content_type;  // a static string
};

class StaticFiles {
 public:
  // Opens the directory `dir` (which may itself be reached through links: the administrator
  // chose it). Error io_error when it cannot be opened as a directory.
  static Result<StaticFiles> open(const std::filesystem::path& dir);

  // The file a request path names ("/" and "/dir/" name index.html). Path components may use
  // only letters, digits, '-', '_' and '.', may not start with '.', and none may be a symbolic
  // link; the file must be a regular file with a known extension (html, css, js, svg, png,
  // ico, json, txt, woff2). Error not_found otherwise (without saying which rule refused it).
  Result<StaticFile> find(std::string_view url_path) const;

 private:
  explicit StaticFiles(UniqueFd dir) : dir_(std::move(dir)) {}
  UniqueFd dir_;
};

// The content type for `name`'s extension, or an empty view when it is not served.
std::string_view content_type_for(std::string_view name);

}  // namespace touchpass::web
