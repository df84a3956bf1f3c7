#include "daemon/verify_handler.h"

#include "core/source_address.h"
#include "core/verifier.h"
#include "core/verify_policy.h"
#include "daemon/log.h"

namespace touchpass::daemon {

VerifyHandler::VerifyHandler(store::VerificationStore& store, Throttle& throttle,
                             RefusalLog& refusals, VerificationRecorder& recorder,
                             const SecretBytes& pepper, Settings settings, Clock clock, Sleep sleep)
    : store_(store),
      throttle_(throttle),
      refusals_(refusals),
      recorder_(recorder),
      settings_(std::move(settings)),
      clock_(std::move(clock)),
      sleep_(std::move(sleep)) {
  if (auto key = VerifierKey::create(pepper.bytes()); key.ok()) key_.emplace(std::move(*key));
}

Status VerifyHandler::verify(const Peer& peer, const ipc::Request& request,
                             const SecretBytes& password) {
  const std::string user = request.user.value_or("");
  const store::UnixTime now = clock_();
  const RefusalLog::Actor actor{static_cast<std::int64_t>(peer.uid), peer.user};
  if (!peer.verifier) {
    refusals_.refused(actor, "refuse", user, "verify", "uid " + std::to_string(peer.uid),
                      "not a member of the group \"" + settings_.service_group + "\"", now);
    return Status(Code::permission_denied, "Only root and members of the group \"" +
                                               settings_.service_group +
                                               "\" may verify passwords.");
  }
  if (!key_) return Status(Code::internal, "The verifier key could not be prepared.");
  const Status refused(Code::refused, "Refused.");
  const std::string source = source_of(request.remote, settings_.ipv6_prefix);

  Throttle::Attempt attempt = throttle_.admit(source, user, now);
  if (attempt.unavailable()) {
    return Throttle::no_verdict();
  }
  if (!attempt.admitted()) {
    refusals_.refused(actor, "verify", user, request.service, source,
                      "source locked after too many failures; not evaluated", now);
    sleep_(throttle_.refusal_delay());
    return refused;
  }

  VerifyDecision decision = VerifyDecision::not_a_password;
  const VerifyContext context{user, request.service, request.remote};
  std::optional<store::GrantRecord> grant;
  std::optional<GrantFacts> facts;
  if (auto verifier = key_->for_typed_password(password.view()); verifier.ok()) {
    auto found =
        store_.find_grant_by_verifier(Bytes(verifier->bytes().begin(), verifier->bytes().end()));
    if (!found.ok()) return found.status();  // no verdict; the attempt is released unsettled
    if (!found->has_value()) {
      decision = VerifyDecision::unknown;
    } else {
      grant = std::move(**found);
      facts = GrantFacts{grant->user,
                         grant->name,
                         &grant->scopes,
                         &grant->networks,
                         grant->revoked.has_value(),
                         grant->expires,
                         grant->token_revoked,
                         grant->intact};
      decision = decide(*facts, context, now);
      if (decision == VerifyDecision::tampered) {
        log_error("verify: " + refusal_reason(decision, &*facts, context) +
                  "; run \"touchpass log --verify\"");
      }
      if (decision == VerifyDecision::accepted) {
        throttle_.settle(attempt, true, now);
        recorder_.record_use({grant->grant_id, now, request.service, request.remote});
        return {};
      }
    }
  }
  const Throttle::Verdict verdict = throttle_.settle(attempt, false, now);
  refusals_.refused(actor, "verify", user, request.service, source,
                    refusal_reason(decision, facts ? &*facts : nullptr, context), now);
  if (verdict.locked_now) refusals_.locked(actor, user, source, verdict.locked_until, now);
  sleep_(verdict.delay);
  return refused;
}

}  // namespace touchpass::daemon
