#include "cli/runner.h"

#include "cli/expiry.h"
#include "cli/format.h"
#include "cli/invitation_text.h"
#include "cli/proof_summary.h"

namespace touchpass::cli {

namespace {

// What the answer of `log --verify` says about the hash chain: an empty sentence when it is
// intact or was not checked (only administrators have it checked: it spans every user's
// entries), the problem otherwise; protocol_error when the answer says neither.
Result<std::string> chain_problem(const ipc::Json& result) {
  const auto checked = result.find("chain_checked");
  if (checked != result.end() && checked->is_boolean() && !checked->get<bool>()) {
    return std::string();
  }
  const auto ok = result.find("chain_ok");
  if (ok == result.end() || !ok->is_boolean()) {
    return Error{Code::protocol_error, "touchpassd sent a malformed answer (no chain_ok)."};
  }
  if (ok->get<bool>()) return std::string();
  const auto detail = result.find("chain_error");
  return "The audit log's hash chain is broken. " + (detail != result.end() && detail->is_string()
                                                         ? printable(detail->get<std::string>())
                                                         : "An entry was changed or removed.");
}

bool chain_checked(const ipc::Json& result) {
  const auto checked = result.find("chain_checked");
  return checked == result.end() || !checked->is_boolean() || checked->get<bool>();
}

}  // namespace

int Runner::log() {
  ipc::Request r = request(Op::log);
  r.limit = o_.limit;
  r.verify_chain = o_.verify;
  Answer answer;
  if (int code = call(r, answer); code != 0) return code;
  if (int code = print_listing(answer.result, log_table(answer.result)); code != 0) return code;
  if (!o_.verify) return 0;
  // A broken chain and failed proofs are both told: the daemon checks the proofs either way.
  auto chain = chain_problem(answer.result);
  if (!chain.ok()) return fail(chain.error());
  std::string problem = std::move(*chain);
  if (problem.empty() && !o_.json) {
    env_.console.err(chain_checked(answer.result)
                         ? "The audit log's hash chain is intact.\n"
                         : "The audit log's hash chain is checked by administrators only (root "
                           "and the admin group).\n");
  }
  // Every FIDO2 grant's and show's proof re-verified by the daemon with the enrolled key.
  const auto proofs = read_proof_summary(answer.result);
  if (!proofs.ok()) return fail(proofs.error());
  if (proofs->failed()) env_.console.err(proof_failure_lines(*proofs));
  if (!problem.empty()) {
    if (proofs->failed()) problem += " " + proof_failure_sentence(*proofs);
    return fail(Error{Code::integrity, problem}, ExitCode::general);
  }
  if (proofs->failed()) {
    return fail(Error{Code::verification_failed, proof_failure_sentence(*proofs)},
                ExitCode::general);
  }
  if (!o_.json) env_.console.err(proof_success_lines(*proofs));
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

}  // namespace touchpass::cli
