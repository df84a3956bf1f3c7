#include "daemon/service.h"

#include "core/bytes.h"
#include "core/derivation.h"
#include "core/grant.h"
#include "core/password.h"
#include "core/random.h"
#include "core/rolling_challenge.h"
#include "core/verifier.h"
#include "daemon/log.h"
#include "daemon/service_support.h"

namespace touchpass::daemon {

using ipc::Json;

Service::Service(const Config& config, store::AdminStore& store,
                 store::VerificationStore& verification, Throttle& throttle, RefusalLog& refusals,
                 VerificationRecorder& recorder, SecretBytes pepper, Clock clock,
                 VerifyHandler::Sleep sleep)
    : config_(config),
      store_(store),
      throttle_(throttle),
      refusals_(refusals),
      recorder_(recorder),
      pepper_(std::move(pepper)),
      clock_(clock),
      sleep_(sleep),
      verify_(verification, throttle, refusals, recorder, pepper_,
              VerifyHandler::Settings{config.ipv6_prefix, config.service_group}, clock,
              std::move(sleep)),
      ceremonies_(
          CeremonyTable::Limits{config.token_timeout + config.pin_timeout + config.token_timeout}),
      web_ceremonies_(CeremonyTable::Limits{
          config.token_timeout + config.pin_timeout + config.token_timeout, 4, 1024}),
      // Anyone may begin a sign-in for any user: no limit per user, and the oldest gives way.
      // Replacing one that is still being answered takes more begins within its lifetime than
      // touchpass-web's rate limit lets one address send.
      signin_ceremonies_(CeremonyTable::Limits{
          config.token_timeout + config.pin_timeout + config.token_timeout, 0, 1024, true}),
      web_sessions_(WebSessions::Limits{}, clock),
      phone_setups_(PhoneSetups::Limits{}, clock) {}

CeremonyTable& Service::ceremonies_for(const Peer& peer) {
  return peer.via_web || peer.gateway ? web_ceremonies_ : ceremonies_;
}

store::AuditEvent Service::audit(const Peer& peer, std::string action, const std::string& user,
                                 std::string object) const {
  store::AuditEvent e;
  e.time = clock_();
  e.actor_uid = static_cast<std::int64_t>(peer.uid);
  e.actor = peer.user;
  e.action = std::move(action);
  e.user = user;
  e.object = std::move(object);
  e.result = "ok";
  return e;
}

Error Service::audited_failure(const Peer& peer, const std::string& action, const std::string& user,
                               const std::string& object, Error error) {
  const store::UnixTime now = clock_();
  if (!audit_budget_.take(static_cast<std::int64_t>(peer.uid), peer.user, now)) {
    // Failing in a loop: counted and written in batches, not a durable write each.
    refusals_.refused({static_cast<std::int64_t>(peer.uid), peer.user}, action, user, object,
                      peer.via_web ? "touchpass-web" : "uid " + std::to_string(peer.uid),
                      error.message, now);
    return error;
  }
  store::AuditEvent e = audit(peer, action, user, object);
  e.result = std::string(code_name(error.code));
  e.detail = error.message;
  (void)store_.append_audit(e);  // the request fails either way; the store logs its own errors
  return error;
}

Service::RelyingParty Service::relying_party(const Peer& peer) const {
  if (peer.via_web && config_.web_origin) {
    return {config_.web_origin->host, config_.web_origin->origin};
  }
  return {config_.rp_id, config_.rp_id};
}

void Service::own(PendingCeremony& ceremony, const Peer& peer) const {
  ceremony.uid = peer.uid;
  ceremony.pid = peer.pid;
  ceremony.web_user = peer.via_web ? peer.user : "";
  ceremony.session_bound = peer.via_web;
  ceremony.origin = relying_party(peer).origin;
}

Result<Service::Target> Service::target_of(const Peer& peer, const ipc::Request& request) {
  Target target{request.user.value_or(peer.user), request.all_users};
  if ((target.user != peer.user || target.all_users) && !peer.admin) {
    // Counted, not written one by one: a user repeating this cannot fill the disk.
    refusals_.refused({static_cast<std::int64_t>(peer.uid), peer.user}, "refuse", target.user,
                      std::string(ipc::op_name(request.op)), "uid " + std::to_string(peer.uid),
                      "not a member of the group \"" + config_.admin_group + "\"", clock_());
    return Error{Code::permission_denied, "Only root and members of the group \"" +
                                              config_.admin_group +
                                              "\" may act on other users' tokens and passwords."};
  }
  return target;
}

Result<Outcome> Service::handle(const Peer& peer, const ipc::Request& request,
                                const SecretBytes& secret) {
  if (peer.gateway) return handle_gateway(peer, request, secret);
  if (request.op == ipc::Op::signin_begin || request.op == ipc::Op::session ||
      request.op == ipc::Op::signout) {
    return Error{Code::permission_denied, "Only touchpass-web signs web users in and out."};
  }
  if (request.op == ipc::Op::devices) {
    return Error{Code::invalid_argument,
                 "touchpassd opens no security key; `touchpass devices` lists the keys this "
                 "computer sees."};
  }
  if (request.op == ipc::Op::verify) {
    Status verdict = verify_.verify(peer, request, secret);
    if (!verdict.ok()) return verdict.error();
    return Outcome{};
  }
  if (request.op == ipc::Op::unlock) return unlock(peer, request);
  if (request.op == ipc::Op::services) return services();
  if (request.op == ipc::Op::phone_setup) {
    return Error{Code::permission_denied, "Only touchpass-web takes phone setups."};
  }
  // A ceremony acts on the user it was begun for; whoever began it finishes it.
  if (request.op == ipc::Op::finish) return finish(peer, request, secret);
  auto target = target_of(peer, request);
  if (!target.ok()) return target.error();
  switch (request.op) {
    case ipc::Op::enroll_begin:
      return enroll_begin(peer, *target, request);
    case ipc::Op::tokens:
      return tokens(*target);
    case ipc::Op::issue_begin:
      return issue_begin(peer, *target, request);
    case ipc::Op::show_begin:
      return show_begin(peer, *target, request);
    case ipc::Op::list:
      return list(*target);
    case ipc::Op::revoke:
      return revoke(peer, *target, request);
    case ipc::Op::rename:
      return rename(peer, *target, request);
    case ipc::Op::log:
      return log(peer, *target, request);
    case ipc::Op::invite:
      return invite(peer, *target, request);
    default:
      return Error{Code::protocol_error, "Unsupported operation."};
  }
}

}  // namespace touchpass::daemon
