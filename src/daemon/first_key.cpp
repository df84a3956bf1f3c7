// A first key with the account password (DESIGN.md §6, PROTOCOL.md "touchpass-web"): off unless
// first_key_pam_service names a PAM service. Only for a user who has no key at all; the password
// is checked by PAM, and every failure counts against the client's address in the same throttle
// as wrong app passwords (a guesser of account passwords is a guesser), so the web cannot be used
// to try Unix passwords faster than IMAP.
#include "core/source_address.h"
#include "daemon/account_password.h"
#include "daemon/log.h"
#include "daemon/service.h"
#include "daemon/service_support.h"

namespace touchpass::daemon {

Result<Outcome> Service::password_enroll_begin(const Peer& gateway, const ipc::Request& request,
                                               const SecretBytes& password) {
  if (config_.first_key_pam_service.empty()) {
    return Error{Code::permission_denied,
                 "A first security key is enrolled with an invitation here (ask your "
                 "administrator for one); the account password is not accepted."};
  }
  if (!request.user || request.user->empty()) {
    return Error{Code::invalid_argument, "Say whose account this is (user)."};
  }
  if (request.kind != TokenKind::fido2) {
    return Error{Code::invalid_argument, "On the web, only FIDO2 security keys are enrolled."};
  }
  const std::string& user = *request.user;
  const RefusalLog::Actor actor{static_cast<std::int64_t>(gateway.uid), "touchpass-web"};
  const store::UnixTime now = clock_();
  const std::string source = source_of(request.remote, config_.ipv6_prefix);
  const Error refused{Code::refused, "The user name or the password is wrong."};

  Throttle::Attempt attempt = throttle_.admit(source, user, now);
  if (attempt.unavailable()) {
    return Throttle::no_verdict();
  }
  if (!attempt.admitted()) {
    refusals_.refused(actor, "first-key", user, "", source,
                      "source locked after too many failures; not evaluated", now);
    sleep_(throttle_.refusal_delay());
    return refused;
  }
  const Status checked = check_account_password(config_.first_key_pam_service, user, password);
  if (!checked.ok() && checked.code() != Code::refused) {
    log_error("first key: " + std::string(checked.message()));
    return Error{Code::io_error, "The account password cannot be checked right now."};
  }
  if (!checked.ok()) {
    const Throttle::Verdict verdict = throttle_.settle(attempt, false, now);
    refusals_.refused(actor, "first-key", user, "", source, "wrong account password", now);
    if (verdict.locked_now) refusals_.locked(actor, user, source, verdict.locked_until, now);
    sleep_(verdict.delay);
    return refused;
  }
  throttle_.settle(attempt, true, now);
  auto tokens = store_.list_tokens(user, false);
  if (!tokens.ok()) return tokens.error();
  if (!tokens->empty()) {
    return Error{Code::permission_denied, "\"" + user +
                                              "\" has a security key already: sign in with it "
                                              "to add another."};
  }
  return enroll_begin(web_peer(gateway, user), Target{user, false}, request, {}, true);
}

}  // namespace touchpass::daemon
