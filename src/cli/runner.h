// The touchpass command line's internals (commands.h is its interface): the options CLI11
// fills, the grammar, and Runner, which runs one parsed command. Runner's commands are defined
// by concern:
//   runner.cpp            talking to the daemon, failing, listings, JSON with a secret
//   runner_remote.cpp     --server: the channel to touchpass-web, signing in and out
//   runner_tokens.cpp     enroll, tokens, devices
//   runner_passwords.cpp  issue, show, list, revoke, rename
//   runner_admin.cpp      log, unlock, invite, verify
//   runner_complete.cpp   names for the shell's completion (the hidden __complete)
//   command_line.cpp      the grammar (define_commands)
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/ceremony.h"
#include "cli/commands.h"
#include "cli/daemon_channel.h"
#include "cli/exit_code.h"
#include "cli/remote_channel.h"
#include "cli/remote_server.h"
#include "core/fd.h"
#include "core/secret.h"
#include "core/status.h"
#include "ipc/messages.h"

namespace touchpass::cli {

using ipc::Json;
using ipc::Op;

// touchpassd's only answer to a password it does not accept (it never says why).
inline constexpr std::string_view kRefused = "Refused.";

// Everything the command line can say; each command reads the fields it declared.
struct Options {
  std::string socket{kDefaultSocket};
  // touchpass-web instead of the socket (--server, --server-pin, or the user's configuration
  // file: user_config.h); run_touchpass settles `server` and `server_pin` from them.
  std::optional<std::string> server_flag;
  std::optional<std::string> server_pin_flag;
  std::string server;  // empty: touchpassd on this computer
  std::string server_pin;
  bool server_from_flag = false;
  // Where this client looks for keys (issue, show).
  std::string virtual_tokens;  // a directory of virtual tokens (development, tests)
  bool no_usb = false;         // do not look for USB keys
  std::string user;            // --user: act on another user's tokens and passwords (admins)
  bool json = false;
  bool all_users = false;
  bool pin_stdin = false;
  // enroll
  std::string label;
  std::string invitation;  // enroll --invitation CODE ("-": one line from standard input)
  bool no_pin = false;
  std::string kind = "fido2";  // or "yubikey"
  int slot = 2;
  bool program = false;
  bool force = false;
  // issue, show, revoke, rename
  std::string name;
  std::string new_name;
  std::vector<std::string> scopes;
  std::vector<std::string> networks;  // issue --from
  std::string expires = "never";
  bool copy = false;
  bool phone = false;  // issue, show: a QR code of a one-time link for a phone
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
  // __complete: "names" (app passwords) or "tokens" (key labels)
  std::string complete_what;
};

// Trims spaces around each scope (or network) and drops empty ones ("imap, smtp" -> imap, smtp).
std::vector<std::string> clean_scopes(const std::vector<std::string>& raw);

// True when `password` looks like an app password: only alphabet characters and '-', and
// well formed once normalized. Guards the terminal against whatever a broken daemon sends.
bool is_displayable_password(const SecretBytes& password);

// The string field `key` of `object`; nullopt when absent or not a string.
std::optional<std::string> string_field(const Json& object, const char* key);

std::string current_user_name();

// Runs one parsed command line.
class Runner {
 public:
  Runner(Environment& env, const Options& options) : env_(env), o_(options) {}

  // Runs `command` (one of the functions below): with a server, refuses the commands that only
  // work on this computer (when --server asked for it; the configuration file's server does
  // not apply to them), and signs out at the end. Returns the exit status.
  int run(int (Runner::*command)());

  int enroll();
  int tokens();
  int devices();
  int issue();
  int show();
  int list();
  int services();
  int revoke();
  int rename();
  int log();
  int unlock();
  int invite();
  int verify();
  // The hidden `__complete names|tokens`: the active app passwords' names or the enrolled keys'
  // labels, one a line, for the shell's completion. Never asks anything, gives up after 3 s,
  // and prints nothing (exit 0) when touchpassd cannot be reached or a server would be used.
  int complete();

 private:
  ipc::Request request(Op op) const;
  // Sends `request` (connecting and signing in first if needed) and fills `answer`. Returns 0,
  // or the exit status after printing the error.
  int call(const ipc::Request& request, Answer& answer);
  // Issue and show: the ceremony with the key (ceremony.h), then the password delivered.
  // `purpose` completes "Touch your security key …" for a server.
  int ceremony(const ipc::Request& begin, const std::string& purpose);
  // Opens the channel (the socket, or touchpass-web with a server) if not yet open and checks
  // that touchpassd can be reached; 0 or the exit status after printing the error.
  int connect();
  // connect(), and with a server a sign-in (signin-begin, the key, finish) unless a session is
  // open; 0 or the exit status after printing the error.
  int ready();
  // The sign-in ceremony as the user (--user, else the login name).
  int sign_in();
  // enroll --invitation: the code as given, or one line of standard input for "-".
  Result<SecretBytes> invitation_code();
  // Ends a session a server opened; a failure is only reported (the session expires anyway).
  void sign_out();
  // --phone: draws the QR code of the phone-setup link in `result` with what to do with it, and
  // returns true; false after saying why there is no link (the caller then delivers the
  // password as usual).
  bool show_phone_setup(const Json& result);
  // Whether this command talks to touchpass-web.
  bool remote() const { return server_.has_value(); }
  // The name of the server in sentences ("mail.example.org"); empty when local.
  std::string server_name() const { return server_ ? server_->origin.host : std::string(); }
  // Where this client looks for keys (--virtual-tokens, --no-usb).
  client::KeySources key_sources() const;
  // Runs `run(context)` with what a ceremony needs here: the console, a PIN source, the key
  // sources, and Ctrl-C routed to the cancel flag meanwhile.
  // With a server, `purpose` completes the touch prompt and the offer is scoped to the server.
  template <class Run>
  auto with_ceremony(const std::string& purpose, Run&& run) {
    std::unique_ptr<PinSource> pins = env_.make_pins(o_.pin_stdin);
    std::optional<SignalCancelScope> signals;
    if (env_.catch_signals && !command_signals_) signals.emplace(env_.cancel);
    CeremonyContext context{env_.console,
                            *pins,
                            env_.cancel,
                            env_.timing,
                            key_sources(),
                            std::chrono::seconds(30),
                            server_ ? purpose : std::string(),
                            server_ ? &server_->origin : nullptr};
    return run(context);
  }
  int fail(const Error& error, std::optional<ExitCode> code = std::nullopt);
  int print_listing(const Json& result, const Result<std::string>& table);
  // Issue and show, before the key is asked: a usage error for --phone with --copy; with --copy
  // (and not --json), 0 when there is a clipboard to copy to, else the exit status after an
  // error ending in `nothing_done`.
  int check_phone_or_copy(std::string_view nothing_done);
  // Issue and show: prints (or copies) the password from `answer` and the hint. A copy that
  // fails is an error, and the password is not printed.
  int deliver_password(const Answer& answer, bool issued);
  // Prints `result` with `secret` added under `key`, the secret never in a std::string.
  void print_json_with_secret(const Json& result, std::string_view key, std::string_view secret);
  int revoke_all();
  int revoke_token();
  // verify: prints "Refused." and returns exit status 1.
  int refused();

  Environment& env_;
  const Options& o_;
  std::optional<RemoteServer> server_;  // set by run() when this command talks to a server
  std::unique_ptr<DaemonChannel> channel_;
  RemoteChannel* remote_channel_ = nullptr;  // channel_, when it is remote
  bool signed_in_ = false;
  // With a server, Ctrl-C is caught for the whole command, so that it still signs out.
  std::optional<SignalCancelScope> command_signals_;
};

// The command-line grammar. Returns each subcommand's runner, keyed by the subcommand.
std::vector<std::pair<CLI::App*, int (Runner::*)()>> define_commands(CLI::App& app, Options& o);

}  // namespace touchpass::cli
