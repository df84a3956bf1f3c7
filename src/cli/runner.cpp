#include "cli/runner.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>

#include "cli/format.h"
#include "cli/local_channel.h"
#include "core/password.h"

namespace touchpass::cli {

// Trims spaces around each scope and drops empty ones ("imap, smtp" -> imap, smtp).
std::vector<std::string> clean_scopes(const std::vector<std::string>& raw) {
  std::vector<std::string> scopes;
  for (const auto& scope : raw) {
    const auto first = scope.find_first_not_of(' ');
    if (first == std::string::npos) continue;
    const auto last = scope.find_last_not_of(' ');
    scopes.push_back(scope.substr(first, last - first + 1));
  }
  return scopes;
}

// True when `password` looks like an app password: only alphabet characters and '-', and
// well formed once normalized. Guards the terminal against whatever a broken daemon sends.
bool is_displayable_password(const SecretBytes& password) {
  if (password.empty()) return false;
  for (char c : password.view()) {
    if (c != '-' && kPasswordAlphabet.find(c) == std::string_view::npos) return false;
  }
  const SecretBytes normalized = normalize_password(password.view());
  return is_well_formed(normalized.view());
}

// The string field `key` of `object`; nullopt when absent or not a string.
std::optional<std::string> string_field(const Json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::string current_user_name() {
  const uid_t uid = ::getuid();
  if (const passwd* entry = ::getpwuid(uid); entry != nullptr) return entry->pw_name;
  return "uid " + std::to_string(uid);
}

ipc::Request Runner::request(Op op) const {
  ipc::Request r;
  r.op = op;
  if (!o_.user.empty()) r.user = o_.user;
  r.all_users = o_.all_users;
  return r;
}

int Runner::fail(const Error& error, std::optional<ExitCode> code) {
  env_.console.err(printable(error.message) + "\n");
  return to_int(code.value_or(exit_code_for(error.code)));
}

int Runner::connect() {
  if (channel_) return 0;
  std::unique_ptr<DaemonChannel> channel;
  if (server_) {
    auto opened = RemoteChannel::open(*server_, env_.cancel, env_.remote_timing);
    if (!opened.ok()) return fail(opened.error());
    remote_channel_ = opened->get();
    channel = std::move(*opened);
  } else {
    channel = std::make_unique<LocalChannel>(o_.socket, env_.cancel, env_.timing);
  }
  if (Status reached = channel->connect(); !reached.ok()) {
    remote_channel_ = nullptr;
    switch (reached.code()) {
      case Code::permission_denied:
        return fail(reached.error(), ExitCode::permission);
      case Code::io_error:
        return fail(reached.error(), ExitCode::unreachable);
      default:
        return fail(reached.error());
    }
  }
  channel_ = std::move(channel);
  return 0;
}

int Runner::ready() {
  if (int code = connect(); code != 0) return code;
  if (remote() && !signed_in_) return sign_in();
  return 0;
}

client::KeySources Runner::key_sources() const {
  client::KeySources keys;
  keys.usb = !o_.no_usb;
  keys.virtual_dir = o_.virtual_tokens;
  return keys;
}

int Runner::ceremony(const ipc::Request& begin, const std::string& purpose) {
  if (int code = ready(); code != 0) return code;
  auto answer = with_ceremony(
      purpose, [&](CeremonyContext& context) { return run_ceremony(*channel_, begin, context); });
  if (!answer.ok()) return fail(answer.error());
  return deliver_password(*answer, begin.op == Op::issue_begin);
}

int Runner::call(const ipc::Request& request, Answer& answer) {
  if (int code = ready(); code != 0) return code;
  auto result = channel_->call(request);
  if (!result.ok()) return fail(result.error());
  answer = std::move(*result);
  return 0;
}

int Runner::print_listing(const Json& result, const Result<std::string>& table) {
  if (o_.json) {
    env_.console.out(pretty_json(result));
    return 0;
  }
  if (!table.ok()) return fail(table.error());
  env_.console.out(*table);
  return 0;
}

void Runner::print_json_with_secret(const Json& result, std::string_view key,
                                    std::string_view secret) {
  // The secret is spliced into the text rather than put into the Json, so that it never lands
  // in a std::string. It comes last, after the sorted keys.
  std::string head = terminal_safe_json(result.dump(2, ' ', false, Json::error_handler_t::replace));
  if (result.empty()) {
    head = "{\n";
  } else {
    head.resize(head.size() - 2);  // drop the closing "\n}"
    head += ",\n";
  }
  env_.console.out(head + "  \"" + std::string(key) + "\": \"");
  env_.console.out_secret(secret);
  env_.console.out("\"\n}\n");
}

}  // namespace touchpass::cli
