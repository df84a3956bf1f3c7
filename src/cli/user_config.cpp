#include "cli/user_config.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/config_text.h"
#include "core/fd.h"

namespace touchpass::cli {

namespace {

// The file is the user's own and small; anything larger is not a configuration.
constexpr std::size_t kMaxConfigBytes = 64 * 1024;

const ConfigSetters<UserConfig>& setters() {
  static const ConfigSetters<UserConfig> table = {
      {"server",
       [](UserConfig& c, std::string_view v) -> std::optional<std::string> {
         c.server = std::string(v);
         return std::nullopt;
       }},
      {"server_pin",
       [](UserConfig& c, std::string_view v) -> std::optional<std::string> {
         c.server_pin = std::string(v);
         return std::nullopt;
       }},
  };
  return table;
}

}  // namespace

std::filesystem::path user_config_path(const char* xdg_config_home, const char* home) {
  if (xdg_config_home != nullptr && xdg_config_home[0] == '/') {
    return std::filesystem::path(xdg_config_home) / "touchpass" / "config";
  }
  if (home != nullptr && home[0] == '/') {
    return std::filesystem::path(home) / ".config" / "touchpass" / "config";
  }
  return {};
}

Result<UserConfig> parse_user_config(std::string_view text, std::string_view origin) {
  return apply_config_lines(setters(), text, origin);
}

Result<UserConfig> read_user_config(const std::filesystem::path& path) {
  if (path.empty()) return UserConfig{};
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) {
    // Absent, or out of this user's reach (a HOME inherited from another user, as under sudo).
    if (errno == ENOENT || errno == ENOTDIR || errno == EACCES) return UserConfig{};
    return Error{Code::io_error, "Cannot read " + path.string() + ": " + std::strerror(errno)};
  }
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return Error{Code::io_error, "Cannot read " + path.string() + ": " + std::strerror(errno)};
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > kMaxConfigBytes) {
      return Error{Code::invalid_argument, path.string() + " is larger than 64 KiB."};
    }
  }
  return parse_user_config(text, path.string());
}

ServerChoice choose_server(const std::optional<std::string>& server_flag,
                           const std::optional<std::string>& pin_flag, bool socket_given,
                           const UserConfig& config) {
  ServerChoice choice;
  if (server_flag) {
    choice.server = *server_flag;
    choice.from_flag = true;
  } else if (!socket_given) {
    choice.server = config.server;
  }
  if (choice.server.empty()) return choice;
  // The file's pin belongs to the file's server.
  if (pin_flag) {
    choice.pin = *pin_flag;
  } else if (choice.server == config.server) {
    choice.pin = config.server_pin;
  }
  return choice;
}

}  // namespace touchpass::cli
