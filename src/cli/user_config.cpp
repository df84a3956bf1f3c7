#include "cli/user_config.h"

#include <fstream>
#include <sstream>

#include "core/config_text.h"

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
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !ec) return UserConfig{};
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{Code::io_error, "Cannot read " + path.string() + "."};
  std::string text(kMaxConfigBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return Error{Code::io_error, "Cannot read " + path.string() + "."};
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxConfigBytes) {
    return Error{Code::invalid_argument, path.string() + " is larger than 64 KiB."};
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
