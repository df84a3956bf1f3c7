#include "cli/runner.h"

#include "cli/exit_code.h"

namespace touchpass::cli {

// The command-line grammar. Returns each subcommand's runner, keyed by the subcommand.
std::vector<std::pair<CLI::App*, int (Runner::*)()>> define_commands(CLI::App& app, Options& o) {
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand
  app.footer(std::string(kExitCodeHelp));
  auto* socket =
      app.add_option("--socket", o.socket, "The socket of touchpassd")->capture_default_str();
  app.add_option("--server", o.server_flag,
                 "Use touchpass-web at this address (https://host[:port]) instead of touchpassd "
                 "on this computer; default: `server` in ~/.config/touchpass/config")
      ->excludes(socket);
  app.add_option("--server-pin", o.server_pin_flag,
                 "sha256//BASE64: trust the server by this public key (a self-signed "
                 "certificate) instead of the system's CAs");
  app.add_option("--virtual-tokens", o.virtual_tokens,
                 "Also look for virtual tokens (development devices) in this directory")
      ->envname("TOUCHPASS_VIRTUAL_TOKENS");
  app.add_flag("--no-usb", o.no_usb, "Do not look for USB security keys")
      ->envname("TOUCHPASS_NO_USB");

  const auto add_user = [&o](CLI::App* sub) {
    sub->add_option("-u,--user", o.user, "Act on this user's tokens and passwords (admins only)");
  };
  const auto add_json = [&o](CLI::App* sub) {
    sub->add_flag("-j,--json", o.json, "Print the daemon's JSON result");
  };
  const auto add_pin_stdin = [&o](CLI::App* sub) {
    sub->add_flag("--pin-stdin", o.pin_stdin,
                  "Read the security key's PIN as one line from standard input (one line each "
                  "time the key asks: with a server, to sign in and for the command)");
  };
  std::vector<std::pair<CLI::App*, int (Runner::*)()>> commands;
  const auto add_phone = [&o](CLI::App* sub) {
    sub->add_flag("--phone", o.phone,
                  "Set up a phone instead of printing the password: a QR code of a one-time "
                  "link to touchpass-web (valid 10 minutes) where the phone gets its mail "
                  "settings and the password");
  };

  auto* enroll = app.add_subcommand("enroll", "Enroll a security key");
  enroll->add_option("-l,--label", o.label, "A name for the key (default: its product name)");
  enroll->add_option("--invitation", o.invitation,
                     "Enroll a first key on a server with this invitation code (from `touchpass "
                     "invite` there); - reads it from standard input");
  enroll->add_flag("--no-pin", o.no_pin, "Require only a touch, not the PIN, for this key");
  enroll->add_option("--kind", o.kind, "fido2 (default) or yubikey (OTP challenge-response)")
      ->check(CLI::IsMember({"fido2", "yubikey"}));
  enroll->add_option("--slot", o.slot, "yubikey: the challenge-response slot (default 2)")
      ->check(CLI::Range(1, 2));
  enroll->add_flag("--program", o.program,
                   "yubikey: program the slot with a fresh key that requires a touch");
  enroll->add_flag("--force", o.force, "yubikey: program the slot even if it is in use");
  enroll->add_flag("-y,--yes", o.yes, "yubikey: do not ask before programming the slot");
  add_pin_stdin(enroll);
  add_user(enroll);
  add_json(enroll);
  commands.emplace_back(enroll, &Runner::enroll);

  auto* tokens = app.add_subcommand("tokens", "List the enrolled security keys");
  tokens->add_flag("--all-users", o.all_users, "Every user's keys (admins only)");
  add_pin_stdin(tokens);
  add_user(tokens);
  add_json(tokens);
  commands.emplace_back(tokens, &Runner::tokens);

  auto* devices = app.add_subcommand("devices", "List the security keys plugged in");
  add_json(devices);
  commands.emplace_back(devices, &Runner::devices);

  auto* issue = app.add_subcommand("issue", "Issue a new app password");
  issue->add_option("name", o.name, "A name for the password, e.g. thunderbird")->required();
  issue
      ->add_option("-s,--scope", o.scopes,
                   "The services it may be used for, e.g. imap,smtp (`touchpass services` lists "
                   "them; any case), or all for every service. Required.")
      ->delimiter(',');
  issue
      ->add_option("--from", o.networks,
                   "Networks it may be used from, e.g. 192.168.0.0/16,2001:db8::/32 "
                   "(default: anywhere)")
      ->delimiter(',');
  issue
      ->add_option("-e,--expires", o.expires,
                   "90d, 12w, 6m (30-day months), 1y (365 days), a date YYYY-MM-DD (00:00 UTC) "
                   "or never")
      ->capture_default_str();
  issue->add_flag("-c,--copy", o.copy, "Copy the password to the clipboard instead of printing it");
  add_phone(issue);
  add_pin_stdin(issue);
  add_user(issue);
  issue->add_flag("-j,--json", o.json,
                  "Print the grant as JSON, with the password in it (the secret goes to stdout)");
  commands.emplace_back(issue, &Runner::issue);

  auto* show = app.add_subcommand("show", "Show an app password again (needs the security key)");
  show->add_option("name", o.name, "The app password's name")->required();
  show->add_flag("-c,--copy", o.copy, "Copy the password to the clipboard instead of printing it");
  add_phone(show);
  add_pin_stdin(show);
  add_user(show);
  show->add_flag("-j,--json", o.json,
                 "Print the grant as JSON, with the password in it (the secret goes to stdout)");
  commands.emplace_back(show, &Runner::show);

  auto* list = app.add_subcommand("list", "List app passwords");
  list->add_flag("--all-users", o.all_users, "Every user's app passwords (admins only)");
  add_pin_stdin(list);
  add_user(list);
  add_json(list);
  commands.emplace_back(list, &Runner::list);

  auto* services = app.add_subcommand(
      "services", "List the services app passwords may be for (the scopes issue takes)");
  add_json(services);
  commands.emplace_back(services, &Runner::services);

  auto* revoke =
      app.add_subcommand("revoke", "Revoke an app password, all of them, or a lost token");
  auto* revoke_name = revoke->add_option("name", o.name, "The app password to revoke");
  auto* revoke_all = revoke->add_flag("-a,--all", o.all, "Revoke every app password of the user")
                         ->excludes(revoke_name);
  revoke
      ->add_option("-t,--token", o.token,
                   "Revoke an enrolled token (e.g. a lost key) and every app password from it")
      ->excludes(revoke_name)
      ->excludes(revoke_all);
  revoke->add_flag("-y,--yes", o.yes, "Do not ask before revoking all");
  add_pin_stdin(revoke);
  add_user(revoke);
  commands.emplace_back(revoke, &Runner::revoke);

  auto* rename = app.add_subcommand("rename", "Rename an app password");
  rename->add_option("old", o.name, "Its current name")->required();
  rename->add_option("new", o.new_name, "Its new name")->required();
  add_pin_stdin(rename);
  add_user(rename);
  commands.emplace_back(rename, &Runner::rename);

  auto* log = app.add_subcommand("log", "Show the audit log");
  log->add_option("-n,--limit", o.limit, "Only the newest N entries")
      ->check(CLI::Range(1, 1000000));
  log->add_flag("--verify", o.verify, "Check the log's hash chain (exit 1 if broken)");
  log->add_flag("--all-users", o.all_users, "Every user's entries (admins only)");
  add_pin_stdin(log);
  add_user(log);
  add_json(log);
  commands.emplace_back(log, &Runner::log);

  auto* unlock = app.add_subcommand(
      "unlock", "Lift brute-force locks of sources that failed to verify (admins only)");
  auto* unlock_source =
      unlock->add_option("--source", o.source, "A locked source, as `list` shows it");
  auto* unlock_user =
      unlock->add_option("-u,--user", o.user, "Every source locked after failing for this user")
          ->excludes(unlock_source);
  unlock->add_flag("-a,--all", o.all, "Every locked source")
      ->excludes(unlock_source)
      ->excludes(unlock_user);
  add_json(unlock);
  commands.emplace_back(unlock, &Runner::unlock);

  auto* invite = app.add_subcommand(
      "invite", "Make a one-time invitation to enroll a first key on touchpass-web's page");
  invite
      ->add_option("-e,--expires", o.invite_expires,
                   "How long it stays valid: 1d to 30d, 1w to 4w, or a date YYYY-MM-DD (UTC)")
      ->capture_default_str();
  add_user(invite);
  invite->add_flag("-j,--json", o.json, "Print it as JSON, with the code and link in it");
  commands.emplace_back(invite, &Runner::invite);

  auto* verify = app.add_subcommand(
      "verify",
      "Check an app password given as one line on standard input (for services and scripts; "
      "root and members of touchpassd's service group only)");
  verify->add_option("-u,--user", o.user, "The user the password belongs to")->required();
  verify->add_option("--service", o.service, "The service it is used for, e.g. imap")->required();
  verify->add_option("--remote", o.remote, "The client's address, for the audit log");
  verify->add_option("stray", o.stray)->group("");  // refused by Runner::verify, unechoed
  verify->footer(
      "verify exits with 0 when the password is accepted, 1 when it is refused (\"Refused.\", "
      "never why), 2 for a usage error, 3 when there is no verdict (touchpassd is not running, "
      "cannot be reached, does not answer or fails), 4 when you may not verify passwords.");
  commands.emplace_back(verify, &Runner::verify);

  // For the bash completion (touchpass.bash), not for people: hidden from --help.
  auto* complete = app.add_subcommand("__complete", "Names for the shell's completion");
  complete->group("");
  complete->add_option("what", o.complete_what, "names or tokens")
      ->required()
      ->check(CLI::IsMember({"names", "tokens"}));
  complete->add_option("-u,--user", o.user, "Another user's");
  commands.emplace_back(complete, &Runner::complete);
  return commands;
}

}  // namespace touchpass::cli
