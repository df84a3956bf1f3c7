#include "cli/runner.h"

#include "cli/expiry.h"
#include "cli/format.h"
#include "core/grant.h"
#include "core/password.h"
#include "core/service_catalog.h"

#include <algorithm>

namespace touchpass::cli {

namespace {

// A usage error for a name the daemon could not know (empty), before anything is asked.
Status check_name_given(const std::string& name) {
  if (!name.empty()) return Status{};
  return Status(Code::invalid_argument, "The app password name is empty.");
}

}  // namespace

int Runner::issue() {
  if (Status s = validate_grant_name(o_.name); !s.ok()) return fail(s.error(), ExitCode::usage);
  // Services compare without case; touchpassd checks that each one is a service it has.
  std::vector<std::string> scopes = clean_scopes(o_.scopes);
  for (std::string& scope : scopes) scope = lower_ascii(scope);
  const bool every_service = scopes.size() == 1 && scopes.front() == "all";
  if (every_service) {
    scopes.clear();
  } else if (std::find(scopes.begin(), scopes.end(), "all") != scopes.end()) {
    return fail(Error{Code::invalid_argument,
                      "--scope all means every service: give it alone, or name services."},
                ExitCode::usage);
  } else if (scopes.empty()) {
    return fail(Error{Code::invalid_argument,
                      "Say which services the password is for, e.g. --scope imap,smtp "
                      "(`touchpass services` lists them), or --scope all for every service."},
                ExitCode::usage);
  }
  if (Status s = validate_grant_scopes(scopes); !s.ok()) return fail(s.error(), ExitCode::usage);
  auto expires = parse_expiry(o_.expires, env_.now());
  if (!expires.ok()) return fail(expires.error(), ExitCode::usage);
  if (int code = check_phone_or_copy("Nothing was issued"); code != 0) return code;
  ipc::Request r = request(Op::issue_begin);
  r.name = o_.name;
  r.scopes = std::move(scopes);
  r.every_service = every_service;
  r.networks = clean_scopes(o_.networks);
  r.expires = *expires;
  r.phone_setup = o_.phone;
  return ceremony(r, "to issue \"" + o_.name + "\" on " + server_name());
}

int Runner::show() {
  if (Status s = check_name_given(o_.name); !s.ok()) return fail(s.error(), ExitCode::usage);
  if (int code = check_phone_or_copy("Nothing was shown"); code != 0) return code;
  ipc::Request r = request(Op::show_begin);
  r.name = o_.name;
  r.phone_setup = o_.phone;
  return ceremony(r, "to show \"" + o_.name + "\" from " + server_name());
}

int Runner::check_phone_or_copy(std::string_view nothing_done) {
  if (o_.phone && o_.copy) {
    return fail(Error{Code::invalid_argument,
                      "--phone sends the password to a phone and --copy to the clipboard: "
                      "choose one."},
                ExitCode::usage);
  }
  if (!o_.copy || o_.json) return 0;
  if (Status s = check_clipboard(env_.clipboard); !s.ok()) {
    return fail(Error{Code::not_found, s.error().message + " " + std::string(nothing_done) +
                                           "; without --copy the password is printed."},
                ExitCode::general);
  }
  return 0;
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
  bool phone_failed = false;
  if (o_.phone && !o_.json) {
    if (show_phone_setup(answer.result)) return 0;
    phone_failed = true;  // the password is delivered below instead
  }
  std::string again = "touchpass show " + printable(o_.name);
  if (!o_.user.empty()) again += " --user " + printable(o_.user);
  if (remote() && o_.server_from_flag) again += " --server " + server_->origin.origin;
  if (o_.json) {
    print_json_with_secret(answer.result, "password", password);
  } else if (o_.copy) {
    // Never printed instead: --copy may have been asked for because the output is seen or kept.
    auto copied = copy_to_clipboard(password, env_.clipboard);
    if (copied.ok()) {
      env_.console.err("Copied the password to the clipboard with " + *copied + ".\n");
      return 0;
    }
    return fail(Error{copied.code(), copied.error().message +
                                         (issued ? " The app password was issued but not printed; `"
                                                 : " The password was not printed; `") +
                                         again + "` shows it, with your security key."},
                ExitCode::general);
  } else {
    env_.console.out_secret(password);
    env_.console.out("\n");
  }
  if (issued) {
    env_.console.err("Store it in your mail client now. `" + again +
                     "` shows it again, with your security key.\n");
  } else {
    env_.console.err("It is the same password as when it was issued; `" + again +
                     "` shows it again, with your security key.\n");
  }
  return phone_failed ? 1 : 0;
}

int Runner::services() {
  Answer answer;
  if (int code = call(request(Op::services), answer); code != 0) return code;
  const auto list = answer.result.find("services");
  if (list == answer.result.end() || !list->is_array()) {
    return fail(Error{Code::protocol_error, "touchpassd sent a malformed answer (no services)."});
  }
  if (o_.json) {
    env_.console.out(pretty_json(answer.result));
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const Json& service : *list) {
    if (!service.is_object()) continue;
    rows.push_back({printable(string_field(service, "name").value_or("")),
                    printable(string_field(service, "description").value_or(""))});
  }
  env_.console.out(render_table({"SERVICE", "DESCRIPTION"}, rows));
  env_.console.out("`touchpass issue NAME --scope " +
                   (rows.size() >= 2 ? rows[0][0] + "," + rows[1][0] : std::string("SERVICE")) +
                   "` issues a password for those; --scope all for every service.\n");
  return 0;
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
  if (Status s = check_name_given(o_.name); !s.ok()) return fail(s.error(), ExitCode::usage);
  if (Status s = validate_grant_name(o_.new_name); !s.ok()) {
    return fail(Error{Code::invalid_argument, "The new name is not valid: " + s.error().message},
                ExitCode::usage);
  }
  ipc::Request r = request(Op::rename);
  r.name = o_.name;
  r.new_name = o_.new_name;
  Answer answer;
  if (int code = call(r, answer); code != 0) return code;
  env_.console.out("Renamed \"" + printable(o_.name) + "\" to \"" + printable(o_.new_name) +
                   "\".\n");
  return 0;
}

}  // namespace touchpass::cli
