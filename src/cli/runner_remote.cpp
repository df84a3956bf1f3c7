#include "cli/runner.h"

#include "cli/format.h"
#include "cli/prompt.h"

namespace touchpass::cli {

namespace {

// Why a command cannot run through touchpass-web; nullopt when it can.
std::optional<std::string> local_only_reason(int (Runner::*command)()) {
  if (command == &Runner::invite) {
    return "`touchpass invite` makes invitations on the server itself (touchpass-web does not "
           "relay it): run it there, without --server.";
  }
  if (command == &Runner::unlock) {
    return "`touchpass unlock` is for the server's administrators, on the server (touchpass-web "
           "does not relay it): run it there, without --server.";
  }
  if (command == &Runner::verify) {
    return "`touchpass verify` is for the services on the server, through its touchpassd "
           "(touchpass-web does not relay it): run it there, without --server.";
  }
  if (command == &Runner::devices) {
    return "`touchpass devices` lists the security keys plugged into this computer and asks no "
           "server: run it without --server.";
  }
  return std::nullopt;
}

}  // namespace

int Runner::run(int (Runner::*command)()) {
  // Completion never signs in, and is silent about a server it cannot use.
  if (command == &Runner::complete) return complete();
  if (!o_.server.empty()) {
    if (const auto reason = local_only_reason(command)) {
      // The configuration file's server is for the commands that can use one.
      if (o_.server_from_flag) return fail(Error{Code::invalid_argument, *reason});
    } else {
      auto server = parse_remote_server(o_.server, o_.server_pin);
      if (!server.ok()) return fail(server.error());
      server_ = std::move(*server);
      if (env_.catch_signals) command_signals_.emplace(env_.cancel);
    }
  }
  const int code = (this->*command)();
  sign_out();
  return code;
}

int Runner::sign_in() {
  ipc::Request r;
  r.op = Op::signin_begin;
  r.user = o_.user.empty() ? current_user_name() : o_.user;
  auto answer = with_ceremony("to sign in to " + server_name(), [&](CeremonyContext& context) {
    return run_ceremony(*channel_, r, context);
  });
  if (!answer.ok()) return fail(answer.error());
  signed_in_ = true;
  const auto user = string_field(answer->result, "user");
  env_.console.err("Signed in to " + server_name() + " as " + printable(user.value_or(*r.user)) +
                   ".\n");
  return 0;
}

void Runner::sign_out() {
  if (remote_channel_ == nullptr || !remote_channel_->in_session()) return;
  if (Status ended = remote_channel_->sign_out(); !ended.ok()) {
    env_.console.err("Could not sign out of " + server_name() + " (" +
                     printable(ended.error().message) +
                     "); the session ends by itself after 15 minutes unused.\n");
  }
}

Result<SecretBytes> Runner::invitation_code() {
  if (o_.invitation != "-") return SecretBytes::copy_of(o_.invitation);
  auto line = read_secret_line(env_.password_fd, env_.cancel, ipc::kMaxSecretSize);
  if (line.ok() && !line->empty()) return line;
  if (!line.ok() && line.code() == Code::cancelled) return line.error();
  return Error{Code::invalid_argument,
               "Give the invitation code as one line on standard input (--invitation -)."};
}

}  // namespace touchpass::cli
