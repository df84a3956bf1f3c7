// The user's own settings for the CLI: `~/.config/touchpass/config` ($XDG_CONFIG_HOME first),
// lines of `key = value` (core/config_text.h). Keys: `server` (the touchpass-web address the
// remote commands use, as --server) and `server_pin` (as --server-pin). A flag wins over the
// file; an explicit --socket means this computer's touchpassd even when the file names a server.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace touchpass::cli {

struct UserConfig {
  std::string server;
  std::string server_pin;
};

// Where the file is: `xdg_config_home`/touchpass/config when that is an absolute path, else
// `home`/.config/touchpass/config; empty when neither is usable. Arguments are the environment's
// values (nullptr when unset).
std::filesystem::path user_config_path(const char* xdg_config_home, const char* home);

// Parses the file's text; `origin` names it in errors. Errors: invalid_argument
// "ORIGIN:LINE: …" for a malformed line, an unknown key or a key set twice.
Result<UserConfig> parse_user_config(std::string_view text, std::string_view origin);

// Reads and parses the file at `path`. A missing file, one this user may not open (a HOME
// inherited from another user, as under sudo) and an empty path are an empty configuration.
// Errors: as parse_user_config, and for a file over 64 KiB; io_error when reading fails.
Result<UserConfig> read_user_config(const std::filesystem::path& path);

// Which server a command talks to. The flags (nullopt when not given) win over `config`; a
// --socket flag (`socket_given`) without --server means the local daemon. The file's pin is
// used only with the file's server.
struct ServerChoice {
  std::string server;  // empty: the local touchpassd
  std::string pin;
  bool from_flag = false;  // --server was given on the command line
};
ServerChoice choose_server(const std::optional<std::string>& server_flag,
                           const std::optional<std::string>& pin_flag, bool socket_given,
                           const UserConfig& config);

}  // namespace touchpass::cli
