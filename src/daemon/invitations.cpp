// Service::invite (service.h): a one-time invitation to enroll a first key through
// touchpass-web (DESIGN.md §6). The code goes to the client in the answer's secret part and is
// stored only as its hash.
#include "core/invitation_code.h"
#include "daemon/service.h"

namespace touchpass::daemon {

namespace {

constexpr std::int64_t kDefaultLifetime = 24 * 3600;   // a day
constexpr std::int64_t kLongestLifetime = 30 * 86400;  // a month

}  // namespace

Result<Outcome> Service::invite(const Peer& peer, const Target& target,
                                const ipc::Request& request) {
  if (!config_.web_origin) {
    return Error{Code::invalid_argument,
                 "An invitation is redeemed on touchpass-web's page, and touchpassd knows no web "
                 "origin: set web_origin in /etc/touchpass/touchpassd.conf first."};
  }
  if (target.all_users) {
    return Error{Code::invalid_argument, "An invitation is for one user; name them with --user."};
  }
  const store::UnixTime now = clock_();
  const std::int64_t expires = request.expires == 0 ? now + kDefaultLifetime : request.expires;
  if (expires <= now || expires > now + kLongestLifetime) {
    return Error{Code::invalid_argument,
                 "An invitation must expire in the future and within 30 days."};
  }
  auto code = new_invitation_code();
  if (!code.ok()) return code.error();
  auto hash = invitation_code_hash(code->grouped());
  if (!hash.ok()) return hash.error();

  store::InvitationRecord invitation;
  invitation.user = target.user;
  invitation.code_hash = std::move(*hash);
  invitation.created = now;
  invitation.expires = expires;
  invitation.created_by = peer.user;
  store::AuditEvent entry = audit(peer, "invite", target.user, "");
  entry.detail = "expires " + std::to_string(expires);
  auto added = store_.add_invitation(invitation, entry);
  if (!added.ok()) return audited_failure(peer, "invite", target.user, "", added.error());
  return Outcome{
      {{"user", target.user}, {"expires", expires}, {"origin", config_.web_origin->origin}},
      SecretBytes::copy_of(code->grouped())};
}

}  // namespace touchpass::daemon
