#include "cli/commands.h"

#include <pwd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <sstream>

#include "cli/ceremony.h"
#include "cli/exit_code.h"
#include "cli/expiry.h"
#include "cli/format.h"
#include "cli/invitation_text.h"
#include "cli/proof_summary.h"
#include "core/grant.h"
#include "core/password.h"

namespace touchpass::cli {

namespace {

using ipc::Json;
using ipc::Op;

// touchpassd's only answer to a password it does not accept (it never says why).
constexpr std::string_view kRefused = "Refused.";

// Everything the command line can say; each command reads the fields it declared.
struct Options {
  std::string socket{kDefaultSocket};
  // Where this client looks for keys (issue, show).
  std::string virtual_tokens;  // a directory of virtual tokens (development, tests)
  bool no_usb = false;         // do not look for USB keys
  std::string user;            // --user: act on another user's tokens and passwords (admins)
  bool json = false;
  bool all_users = false;
  bool pin_stdin = false;
  // enroll
  std::string label;
  bool no_pin = false;
  std::string kind = "fido2";  // or "yubikey"
  int slot = 2;
  bool program = false;
  bool force = false;
  // issue, show, revoke, rename
  std::string name;
  std::string new_name;
  std::vector<std::string> scopes;
  std::string expires = "never";
  bool copy = false;
  bool all = false;
  bool yes = false;
  std::string token;  // revoke --token
  // log
  int limit = 0;
  bool verify = false;
  // verify (the user is `user`)
  std::string service;
  std::string remote;
  std::vector<std::string> stray;  // arguments after verify's options (a password, by mistake)
  // unlock
  std::string source;
  // invite
  std::string invite_expires = "1d";
};

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

// Runs one parsed command line.
class Runner {
 public:
  Runner(Environment& env, const Options& options) : env_(env), o_(options) {}

  int enroll();
  int tokens();
  int devices();
  int issue();
  int show();
  int list();
  int revoke();
  int rename();
  int log();
  int unlock();
  int invite();
  int verify();

 private:
  ipc::Request request(Op op) const;
  // Sends `request` (connecting first if needed) and fills `answer`. Returns 0, or the exit
  // status after printing the error.
  int call(const ipc::Request& request, Answer& answer);
  // Issue and show: the ceremony with the key (ceremony.h), then the password delivered.
  int ceremony(const ipc::Request& begin);
  // Connects if not yet connected; 0 or the exit status after printing the error.
  int connect();
  // Where this client looks for keys (--virtual-tokens, --no-usb).
  client::KeySources key_sources() const;
  // Runs `run(context)` with what a ceremony needs here: the console, a PIN source, the key
  // sources, and Ctrl-C routed to the cancel flag meanwhile.
  template <class Run>
  auto with_ceremony(Run&& run) {
    std::unique_ptr<PinSource> pins = env_.make_pins(o_.pin_stdin);
    std::optional<SignalCancelScope> signals;
    if (env_.catch_signals) signals.emplace(env_.cancel);
    CeremonyContext context{env_.console, *pins,         env_.cancel,
                            env_.timing,  key_sources(), std::chrono::seconds(30)};
    return run(context);
  }
  int fail(const Error& error, std::optional<ExitCode> code = std::nullopt);
  int print_listing(const Json& result, const Result<std::string>& table);
  // Issue and show: prints (or copies) the password from `answer` and the hint.
  int deliver_password(const Answer& answer, bool issued);
  // Prints `result` with `secret` added under `key`, the secret never in a std::string.
  void print_json_with_secret(const Json& result, std::string_view key, std::string_view secret);
  int revoke_all();
  int revoke_token();
  // verify: prints "Refused." and returns exit status 1.
  int refused();

  Environment& env_;
  const Options& o_;
  UniqueFd connection_;
};

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
  if (connection_.valid()) return 0;
  auto connected = connect_to_daemon(o_.socket);
  if (!connected.ok()) {
    const bool denied = connected.code() == Code::permission_denied;
    return fail(connected.error(), denied ? ExitCode::permission : ExitCode::unreachable);
  }
  connection_ = std::move(*connected);
  return 0;
}

client::KeySources Runner::key_sources() const {
  client::KeySources keys;
  keys.usb = !o_.no_usb;
  keys.virtual_dir = o_.virtual_tokens;
  return keys;
}

int Runner::ceremony(const ipc::Request& begin) {
  if (int code = connect(); code != 0) return code;
  auto answer = with_ceremony(
      [&](CeremonyContext& context) { return run_ceremony(connection_.get(), begin, context); });
  if (!answer.ok()) return fail(answer.error());
  return deliver_password(*answer, begin.op == Op::issue_begin);
}

int Runner::call(const ipc::Request& request, Answer& answer) {
  if (int code = connect(); code != 0) return code;
  auto result = exchange(connection_.get(), request, env_.cancel, env_.timing);
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

int Runner::enroll() {
  ipc::Request r = request(Op::enroll_begin);
  r.label = o_.label;
  if (o_.no_pin) r.uv = "presence";
  r.kind = token_kind_from_name(o_.kind).value_or(TokenKind::fido2);  // --kind is checked
  if (o_.kind == "yubikey") {
    r.slot = o_.slot;
    r.program = o_.program;
    r.force = o_.force;
    if (o_.program && !o_.yes) {
      const auto answer = env_.console.confirm(
          "Program slot " + std::to_string(o_.slot) +
          " of your YubiKey with a new secret key for touchpass? What the slot held before is "
          "lost. [y/N] ");
      if (!answer) {
        return fail(Error{Code::invalid_argument,
                          "There is no terminal to confirm on; add --yes to program the slot."});
      }
      if (!*answer) return fail(Error{Code::cancelled, "Nothing was programmed."});
    }
  }
  if (int code = connect(); code != 0) return code;
  auto ran = with_ceremony(
      [&](CeremonyContext& context) { return run_enroll_ceremony(connection_.get(), r, context); });
  if (!ran.ok()) return fail(ran.error());
  const Answer& answer = *ran;
  const auto token = answer.result.find("token");
  if (token == answer.result.end() || !token->is_object()) {
    return fail(Error{Code::protocol_error, "touchpassd sent a malformed answer (no token)."});
  }
  if (o_.json) {
    env_.console.out(pretty_json(answer.result));
    return 0;
  }
  const auto label = string_field(*token, "label");
  const bool presence_only = string_field(*token, "uv") == "presence";
  const bool yubikey = string_field(*token, "kind") == "yubikey";
  env_.console.out("Enrolled \"" + printable(label.value_or("security key")) + "\"" +
                   (yubikey         ? " (YubiKey challenge-response)."
                    : presence_only ? " (touch only, no PIN)."
                                    : " (PIN and touch).") +
                   "\n");
  return 0;
}

int Runner::tokens() {
  Answer answer;
  if (int code = call(request(Op::tokens), answer); code != 0) return code;
  return print_listing(answer.result, tokens_table(answer.result, o_.all_users));
}

int Runner::devices() {
  auto listed = list_devices(key_sources());
  if (!listed.ok()) return fail(listed.error());
  return print_listing(*listed, devices_table(*listed));
}

int Runner::list() {
  Answer answer;
  if (int code = call(request(Op::list), answer); code != 0) return code;
  if (int code = print_listing(answer.result, grants_table(answer.result, o_.all_users));
      code != 0 || o_.json) {
    return code;
  }
  env_.console.out(throttle_summary(answer.result));
  return 0;
}

int Runner::unlock() {
  ipc::Request r;
  r.op = Op::unlock;
  r.all = o_.all;
  r.source = o_.source;
  if (!o_.user.empty()) r.user = o_.user;
  if (int{r.all} + int{!r.source.empty()} + int{r.user.has_value()} != 1) {
    return fail(Error{Code::invalid_argument,
                      "Say what to unlock: --source ADDRESS, --user NAME or --all."},
                ExitCode::usage);
  }
  Answer answer;
  if (int code = call(r, answer); code != 0) return code;
  if (o_.json) {
    env_.console.out(pretty_json(answer.result));
    return 0;
  }
  const auto n = answer.result.find("unlocked");
  const std::int64_t count =
      n != answer.result.end() && n->is_number_integer() ? n->get<std::int64_t>() : 0;
  env_.console.out(count == 0   ? std::string("Nothing was locked.\n")
                   : count == 1 ? std::string("Unlocked 1 source.\n")
                                : "Unlocked " + std::to_string(count) + " sources.\n");
  return 0;
}

int Runner::invite() {
  auto expires = parse_expiry(o_.invite_expires, env_.now());
  if (!expires.ok()) return fail(expires.error(), ExitCode::usage);
  if (*expires == 0) {
    return fail(Error{Code::invalid_argument, "An invitation expires within 30 days."},
                ExitCode::usage);
  }
  ipc::Request r = request(Op::invite);
  r.expires = *expires;
  Answer answer;
  if (int code = call(r, answer); code != 0) return code;
  auto text = invitation_text(answer.result, answer.secret);
  if (!text.ok()) return fail(text.error());
  if (o_.json) {
    print_json_with_secret(answer.result, "code", answer.secret.view());
  } else {
    env_.console.out_secret(text->view());
  }
  return 0;
}

int Runner::issue() {
  auto expires = parse_expiry(o_.expires, env_.now());
  if (!expires.ok()) return fail(expires.error());
  ipc::Request r = request(Op::issue_begin);
  r.name = o_.name;
  r.scopes = clean_scopes(o_.scopes);
  r.expires = *expires;
  return ceremony(r);
}

int Runner::show() {
  ipc::Request r = request(Op::show_begin);
  r.name = o_.name;
  return ceremony(r);
}

int Runner::deliver_password(const Answer& answer, bool issued) {
  const auto grant = answer.result.find("grant");
  if (grant == answer.result.end() || !grant->is_object()) {
    return fail(Error{Code::protocol_error, "touchpassd sent a malformed answer (no grant)."});
  }
  if (!is_displayable_password(answer.secret)) {
    return fail(Error{Code::protocol_error, "touchpassd sent no valid password."});
  }
  const std::string_view password = answer.secret.view();
  if (o_.json) {
    print_json_with_secret(answer.result, "password", password);
  } else if (o_.copy) {
    auto copied = copy_to_clipboard(password, env_.clipboard_tools, env_.search_path);
    if (copied.ok()) {
      env_.console.err("Copied the password to the clipboard with " + *copied + ".\n");
      return 0;
    }
    env_.console.err(copied.error().message + " Here it is:\n");
    env_.console.out_secret(password);
    env_.console.out("\n");
  } else {
    env_.console.out_secret(password);
    env_.console.out("\n");
  }
  std::string again = "touchpass show " + printable(o_.name);
  if (!o_.user.empty()) again += " --user " + printable(o_.user);
  if (issued) {
    env_.console.err("Store it in your mail client now. `" + again +
                     "` shows it again, with your security key.\n");
  } else {
    env_.console.err("It is the same password as when it was issued; `" + again +
                     "` shows it again, with your security key.\n");
  }
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

int Runner::revoke() {
  if (int{o_.all} + int{!o_.name.empty()} + int{!o_.token.empty()} != 1) {
    return fail(Error{Code::invalid_argument,
                      "Name the app password to revoke, or use --all, or --token LABEL."});
  }
  if (o_.all) return revoke_all();
  if (!o_.token.empty()) return revoke_token();
  ipc::Request r = request(Op::revoke);
  r.name = o_.name;
  Answer answer;
  if (int code = call(r, answer); code != 0) return code;
  env_.console.out("Revoked the app password \"" + printable(o_.name) + "\".\n");
  return 0;
}

int Runner::revoke_token() {
  ipc::Request r = request(Op::revoke);
  r.token = o_.token;
  Answer answer;
  if (int code = call(r, answer); code != 0) return code;
  const auto revoked = answer.result.find("revoked");
  const std::int64_t n = revoked != answer.result.end() && revoked->is_number_integer()
                             ? revoked->get<std::int64_t>()
                             : 0;
  env_.console.out("Revoked the token \"" + printable(o_.token) + "\" and " + std::to_string(n) +
                   " app password" + (n == 1 ? "" : "s") + " derived from it.\n");
  return 0;
}

int Runner::revoke_all() {
  const std::string whose = o_.user.empty() ? current_user_name() : o_.user;
  if (!o_.yes) {
    Answer listed;
    if (int code = call(request(Op::list), listed); code != 0) return code;
    const auto grants = listed.result.find("grants");
    if (grants == listed.result.end() || !grants->is_array()) {
      return fail(Error{Code::protocol_error, "touchpassd sent a malformed answer (no grants)."});
    }
    const auto active = std::count_if(grants->begin(), grants->end(), [](const Json& g) {
      return g.is_object() && (!g.contains("revoked") || g.at("revoked").is_null());
    });
    if (active == 0) {
      env_.console.err(printable(whose) + " has no app passwords to revoke.\n");
      return 0;
    }
    const auto answer = env_.console.confirm("Revoke all " + std::to_string(active) +
                                             " app passwords of " + printable(whose) + "? [y/N] ");
    if (!answer) {
      return fail(Error{Code::invalid_argument,
                        "There is no terminal to confirm on; add --yes to revoke all app "
                        "passwords of " +
                            whose + "."});
    }
    if (!*answer) return fail(Error{Code::cancelled, "Nothing was revoked."});
  }
  ipc::Request r = request(Op::revoke);
  r.all = true;
  Answer answer;
  if (int code = call(r, answer); code != 0) return code;
  const auto revoked = answer.result.find("revoked");
  if (revoked == answer.result.end() || !revoked->is_number_integer()) {
    return fail(Error{Code::protocol_error, "touchpassd sent a malformed answer (no count)."});
  }
  env_.console.out("Revoked " + std::to_string(revoked->get<std::int64_t>()) +
                   " app password(s) of " + printable(whose) + ".\n");
  return 0;
}

int Runner::rename() {
  ipc::Request r = request(Op::rename);
  r.name = o_.name;
  r.new_name = o_.new_name;
  Answer answer;
  if (int code = call(r, answer); code != 0) return code;
  env_.console.out("Renamed \"" + printable(o_.name) + "\" to \"" + printable(o_.new_name) +
                   "\".\n");
  return 0;
}

int Runner::log() {
  ipc::Request r = request(Op::log);
  r.limit = o_.limit;
  r.verify_chain = o_.verify;
  Answer answer;
  if (int code = call(r, answer); code != 0) return code;
  if (int code = print_listing(answer.result, log_table(answer.result)); code != 0) return code;
  if (!o_.verify) return 0;
  const auto chain_ok = answer.result.find("chain_ok");
  if (chain_ok == answer.result.end() || !chain_ok->is_boolean()) {
    return fail(Error{Code::protocol_error, "touchpassd sent a malformed answer (no chain_ok)."});
  }
  // A broken chain and failed proofs are both told: the daemon checks the proofs either way.
  std::string chain_problem;
  if (!chain_ok->get<bool>()) {
    const auto detail = answer.result.find("chain_error");
    chain_problem = "The audit log's hash chain is broken. ";
    chain_problem += detail != answer.result.end() && detail->is_string()
                         ? printable(detail->get<std::string>())
                         : "An entry was changed or removed.";
  } else if (!o_.json) {
    env_.console.err("The audit log's hash chain is intact.\n");
  }
  // Every FIDO2 grant's and show's proof re-verified by the daemon with the enrolled key.
  const auto proofs = read_proof_summary(answer.result);
  if (!proofs.ok()) return fail(proofs.error());
  if (proofs->failed()) env_.console.err(proof_failure_lines(*proofs));
  if (!chain_problem.empty()) {
    if (proofs->failed()) chain_problem += " " + proof_failure_sentence(*proofs);
    return fail(Error{Code::integrity, chain_problem}, ExitCode::general);
  }
  if (proofs->failed()) {
    return fail(Error{Code::verification_failed, proof_failure_sentence(*proofs)},
                ExitCode::general);
  }
  if (!o_.json) env_.console.err(proof_success_lines(*proofs));
  return 0;
}

int Runner::verify() {
  if (!o_.stray.empty()) {
    // Not echoed: it is probably the password.
    return fail(Error{Code::invalid_argument,
                      "verify reads the password from standard input, never from an argument."});
  }
  auto password = read_secret_line(env_.password_fd, env_.cancel, ipc::kMaxSecretSize);
  if (!password.ok()) {
    switch (password.code()) {
      case Code::pin_required:  // the input ended before a line
        return fail(
            Error{Code::invalid_argument, "Give the password as one line on standard input."});
      case Code::pin_policy:  // longer than any password the daemon could accept
        return refused();
      case Code::cancelled:
        return fail(password.error());
      default:
        return fail(Error{Code::io_error, "Reading the password from standard input failed."},
                    ExitCode::unreachable);
    }
  }
  if (password->empty()) return refused();

  auto connected = connect_to_daemon(o_.socket);
  if (!connected.ok()) {
    const bool denied = connected.code() == Code::permission_denied;
    return fail(connected.error(), denied ? ExitCode::permission : ExitCode::unreachable);
  }
  ipc::Request r = request(Op::verify);
  r.service = o_.service;
  r.remote = o_.remote;
  auto answer = exchange(connected->get(), r, env_.cancel, env_.timing, password->bytes());
  if (answer.ok()) return to_int(ExitCode::success);
  const Error& error = answer.error();
  if (error.code == Code::refused) return refused();
  switch (error.code) {
    case Code::permission_denied:  // not root and not in the service group
    case Code::invalid_argument:
    case Code::cancelled:
      return fail(error);
    default:  // no verdict: a broken, silent or failing daemon
      return fail(error, ExitCode::unreachable);
  }
}

int Runner::refused() {
  env_.console.err(std::string(kRefused) + "\n");
  return to_int(ExitCode::general);
}

// The command-line grammar. Returns each subcommand's runner, keyed by the subcommand.
std::vector<std::pair<CLI::App*, int (Runner::*)()>> define_commands(CLI::App& app, Options& o) {
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand
  app.footer(std::string(kExitCodeHelp));
  app.add_option("--socket", o.socket, "The socket of touchpassd")->capture_default_str();
  app.add_option("--virtual-tokens", o.virtual_tokens,
                 "Also look for virtual tokens (development devices) in this directory")
      ->envname("TOUCHPASS_VIRTUAL_TOKENS");
  app.add_flag("--no-usb", o.no_usb, "Do not look for USB security keys")
      ->envname("TOUCHPASS_NO_USB");

  const auto add_user = [&o](CLI::App* sub) {
    sub->add_option("--user", o.user, "Act on this user's tokens and passwords (admins only)");
  };
  const auto add_json = [&o](CLI::App* sub) {
    sub->add_flag("--json", o.json, "Print the daemon's JSON result");
  };
  const auto add_pin_stdin = [&o](CLI::App* sub) {
    sub->add_flag("--pin-stdin", o.pin_stdin,
                  "Read the security key's PIN as one line from standard input");
  };
  std::vector<std::pair<CLI::App*, int (Runner::*)()>> commands;

  auto* enroll = app.add_subcommand("enroll", "Enroll a security key");
  enroll->add_option("--label", o.label, "A name for the key (default: its product name)");
  enroll->add_flag("--no-pin", o.no_pin, "Require only a touch, not the PIN, for this key");
  enroll->add_option("--kind", o.kind, "fido2 (default) or yubikey (OTP challenge-response)")
      ->check(CLI::IsMember({"fido2", "yubikey"}));
  enroll->add_option("--slot", o.slot, "yubikey: the challenge-response slot (default 2)")
      ->check(CLI::Range(1, 2));
  enroll->add_flag("--program", o.program,
                   "yubikey: program the slot with a fresh key that requires a touch");
  enroll->add_flag("--force", o.force, "yubikey: program the slot even if it is in use");
  enroll->add_flag("--yes", o.yes, "yubikey: do not ask before programming the slot");
  add_pin_stdin(enroll);
  add_user(enroll);
  add_json(enroll);
  commands.emplace_back(enroll, &Runner::enroll);

  auto* tokens = app.add_subcommand("tokens", "List the enrolled security keys");
  tokens->add_flag("--all-users", o.all_users, "Every user's keys (admins only)");
  add_user(tokens);
  add_json(tokens);
  commands.emplace_back(tokens, &Runner::tokens);

  auto* devices = app.add_subcommand("devices", "List the security keys plugged in");
  add_json(devices);
  commands.emplace_back(devices, &Runner::devices);

  auto* issue = app.add_subcommand("issue", "Issue a new app password");
  issue->add_option("name", o.name, "A name for the password, e.g. thunderbird")->required();
  issue
      ->add_option("--scope", o.scopes,
                   "Services it may be used for, e.g. imap,smtp (default: all)")
      ->delimiter(',');
  issue
      ->add_option("--expires", o.expires,
                   "90d, 12w, 6m (30-day months), 1y (365 days), a date YYYY-MM-DD (00:00 UTC) "
                   "or never")
      ->capture_default_str();
  issue->add_flag("--copy", o.copy, "Copy the password to the clipboard instead of printing it");
  add_pin_stdin(issue);
  add_user(issue);
  issue->add_flag("--json", o.json,
                  "Print the grant as JSON, with the password in it (the secret goes to stdout)");
  commands.emplace_back(issue, &Runner::issue);

  auto* show = app.add_subcommand("show", "Show an app password again (needs the security key)");
  show->add_option("name", o.name, "The app password's name")->required();
  show->add_flag("--copy", o.copy, "Copy the password to the clipboard instead of printing it");
  add_pin_stdin(show);
  add_user(show);
  show->add_flag("--json", o.json,
                 "Print the grant as JSON, with the password in it (the secret goes to stdout)");
  commands.emplace_back(show, &Runner::show);

  auto* list = app.add_subcommand("list", "List app passwords");
  list->add_flag("--all-users", o.all_users, "Every user's app passwords (admins only)");
  add_user(list);
  add_json(list);
  commands.emplace_back(list, &Runner::list);

  auto* revoke =
      app.add_subcommand("revoke", "Revoke an app password, all of them, or a lost token");
  auto* revoke_name = revoke->add_option("name", o.name, "The app password to revoke");
  auto* revoke_all = revoke->add_flag("--all", o.all, "Revoke every app password of the user")
                         ->excludes(revoke_name);
  revoke
      ->add_option("--token", o.token,
                   "Revoke an enrolled token (e.g. a lost key) and every app password from it")
      ->excludes(revoke_name)
      ->excludes(revoke_all);
  revoke->add_flag("--yes", o.yes, "Do not ask before revoking all");
  add_user(revoke);
  commands.emplace_back(revoke, &Runner::revoke);

  auto* rename = app.add_subcommand("rename", "Rename an app password");
  rename->add_option("old", o.name, "Its current name")->required();
  rename->add_option("new", o.new_name, "Its new name")->required();
  add_user(rename);
  commands.emplace_back(rename, &Runner::rename);

  auto* log = app.add_subcommand("log", "Show the audit log");
  log->add_option("--limit", o.limit, "Only the newest N entries")->check(CLI::Range(1, 1000000));
  log->add_flag("--verify", o.verify, "Check the log's hash chain (exit 1 if broken)");
  log->add_flag("--all-users", o.all_users, "Every user's entries (admins only)");
  add_user(log);
  add_json(log);
  commands.emplace_back(log, &Runner::log);

  auto* unlock = app.add_subcommand(
      "unlock", "Lift brute-force locks of sources that failed to verify (admins only)");
  auto* unlock_source =
      unlock->add_option("--source", o.source, "A locked source, as `list` shows it");
  auto* unlock_user =
      unlock->add_option("--user", o.user, "Every source locked after failing for this user")
          ->excludes(unlock_source);
  unlock->add_flag("--all", o.all, "Every locked source")
      ->excludes(unlock_source)
      ->excludes(unlock_user);
  add_json(unlock);
  commands.emplace_back(unlock, &Runner::unlock);

  auto* invite = app.add_subcommand(
      "invite", "Make a one-time invitation to enroll a first key on touchpass-web's page");
  invite
      ->add_option("--expires", o.invite_expires,
                   "How long it stays valid: 1d to 30d, 1w to 4w, or a date YYYY-MM-DD (UTC)")
      ->capture_default_str();
  add_user(invite);
  invite->add_flag("--json", o.json, "Print it as JSON, with the code and link in it");
  commands.emplace_back(invite, &Runner::invite);

  auto* verify = app.add_subcommand(
      "verify",
      "Check an app password given as one line on standard input (for services and scripts; "
      "root and members of touchpassd's service group only)");
  verify->add_option("--user", o.user, "The user the password belongs to")->required();
  verify->add_option("--service", o.service, "The service it is used for, e.g. imap")->required();
  verify->add_option("--remote", o.remote, "The client's address, for the audit log");
  verify->add_option("stray", o.stray)->group("");  // refused by Runner::verify, unechoed
  verify->footer(
      "verify exits with 0 when the password is accepted, 1 when it is refused (\"Refused.\", "
      "never why), 2 for a usage error, 3 when there is no verdict (touchpassd is not running, "
      "cannot be reached, does not answer or fails), 4 when you may not verify passwords.");
  commands.emplace_back(verify, &Runner::verify);
  return commands;
}

}  // namespace

Environment process_environment(Console& console, CancelFlag& cancel) {
  const char* path = std::getenv("PATH");
  return Environment{
      .console = console,
      .cancel = cancel,
      .make_pins = [&cancel](bool pin_stdin) { return make_pin_source(pin_stdin, cancel); },
      .now = [] { return static_cast<std::int64_t>(std::time(nullptr)); },
      .clipboard_tools = default_clipboard_tools(),
      .search_path = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin",
      .catch_signals = true,
      .timing = {},
      .password_fd = STDIN_FILENO,
  };
}

int run_touchpass(std::span<const std::string> args, Environment& env) {
  Options options;
  CLI::App app{"touchpass: app passwords derived from your security key", "touchpass"};
  app.set_version_flag("--version", "touchpass " TOUCHPASS_VERSION, "Print the version and exit");
  const auto commands = define_commands(app, options);

  std::vector<const char*> argv;
  for (const auto& arg : args) argv.push_back(arg.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    std::ostringstream out;
    std::ostringstream err;
    const int code = app.exit(e, out, err);
    env.console.out(out.str());
    env.console.err(err.str());
    return code == 0 ? to_int(ExitCode::success) : to_int(ExitCode::usage);
  }

  Runner runner(env, options);
  for (const auto& [sub, run] : commands) {
    if (sub->parsed()) return (runner.*run)();
  }
  return to_int(ExitCode::usage);
}

}  // namespace touchpass::cli
