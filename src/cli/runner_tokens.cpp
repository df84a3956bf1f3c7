#include "cli/runner.h"

#include "cli/format.h"

namespace touchpass::cli {

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
  SecretBytes invitation;
  if (!o_.invitation.empty()) {
    if (!remote()) {
      return fail(Error{Code::invalid_argument,
                        "--invitation enrolls a key through touchpass-web: give --server too."});
    }
    auto code = invitation_code();
    if (!code.ok()) return fail(code.error());
    invitation = std::move(*code);
    r.invitation = true;
  }
  if (remote() && o_.kind != "fido2") {
    return fail(Error{Code::invalid_argument,
                      "Only FIDO2 security keys are enrolled through touchpass-web; enroll a "
                      "YubiKey on the server itself."});
  }
  // An invitation stands for the sign-in: its enrollment opens the session.
  if (int code = r.invitation ? connect() : ready(); code != 0) return code;
  auto ran = with_ceremony("to enroll it with " + server_name(), [&](CeremonyContext& context) {
    return run_enroll_ceremony(*channel_, r, context, invitation.bytes());
  });
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

}  // namespace touchpass::cli
