#include "pam/module_options.h"

#include <charconv>
#include <optional>

namespace touchpass::pam {

namespace {

// sockaddr_un::sun_path holds 108 bytes including the terminator.
constexpr std::size_t kMaxSocketPath = 107;
constexpr std::size_t kMaxServiceName = 32;
constexpr std::size_t kMaxUserName = 31;

Error bad(std::string sentence) {
  return Error{Code::invalid_argument, std::move(sentence)};
}

// The value of `argument` when it is "key=value"; nullopt for another key.
std::optional<std::string_view> value_of(std::string_view argument, std::string_view key) {
  if (argument.size() <= key.size() || argument.substr(0, key.size()) != key ||
      argument[key.size()] != '=') {
    return std::nullopt;
  }
  return argument.substr(key.size() + 1);
}

Result<std::chrono::milliseconds> parse_timeout(std::string_view text) {
  long seconds = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc() || end != text.data() + text.size() || seconds < 1 ||
      seconds > kMaxTimeout.count()) {
    return bad("timeout= must be a whole number of seconds from 1 to " +
               std::to_string(kMaxTimeout.count()) + ".");
  }
  return std::chrono::milliseconds(std::chrono::seconds(seconds));
}

}  // namespace

bool is_valid_service_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxServiceName) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool is_valid_user_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxUserName) return false;
  const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!letter(name.front()) && name.front() != '_') return false;
  for (char c : name) {
    const bool ok = letter(c) || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<ModuleOptions> parse_module_options(std::span<const char* const> arguments,
                                           std::string_view pam_service) {
  ModuleOptions options;
  std::optional<std::string> service;
  bool socket_seen = false;
  bool daemon_user_seen = false;
  bool timeout_seen = false;
  for (const char* raw : arguments) {
    if (raw == nullptr) return bad("A module argument is missing.");
    const std::string_view argument(raw);
    if (argument == "debug") {
      options.debug = true;
    } else if (auto name = value_of(argument, "service")) {
      if (service) return bad("service= is given twice.");
      if (!is_valid_service_name(*name)) {
        return bad("service= must be 1 to 32 characters of a-z, 0-9, '_' and '-'.");
      }
      service = std::string(*name);
    } else if (auto path = value_of(argument, "socket")) {
      if (socket_seen) return bad("socket= is given twice.");
      socket_seen = true;
      if (path->empty() || path->front() != '/' || path->size() > kMaxSocketPath) {
        return bad("socket= must be an absolute path of at most 107 bytes.");
      }
      options.socket = std::string(*path);
    } else if (auto user = value_of(argument, "daemon_user")) {
      if (daemon_user_seen) return bad("daemon_user= is given twice.");
      daemon_user_seen = true;
      if (!is_valid_user_name(*user)) {
        return bad(
            "daemon_user= must be a user name: 1 to 31 characters of a-z, A-Z, 0-9, '_' and "
            "'-', starting with a letter or '_'.");
      }
      options.daemon_user = std::string(*user);
    } else if (auto seconds = value_of(argument, "timeout")) {
      if (timeout_seen) return bad("timeout= is given twice.");
      timeout_seen = true;
      auto timeout = parse_timeout(*seconds);
      if (!timeout.ok()) return timeout.error();
      options.timeout = *timeout;
    } else {
      // Not echoed in full: an argument could be anything, even a secret pasted by mistake.
      return bad(
          "Unknown module argument (expected service=, socket=, daemon_user=, timeout= or "
          "debug).");
    }
  }
  if (service) {
    options.service = std::move(*service);
  } else if (is_valid_service_name(pam_service)) {
    options.service = std::string(pam_service);
  } else {
    return bad(
        "The PAM service name is not a valid touchpass service (1 to 32 characters of "
        "a-z, 0-9, '_' and '-'); name the service with service=NAME.");
  }
  return options;
}

}  // namespace touchpass::pam
