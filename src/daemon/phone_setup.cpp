// Phone setup (issue 14): an issue or show asked with `phone_setup` leaves its password in
// PhoneSetups for a phone to take once through touchpass-web, and the answer carries the link the
// client shows as a QR code. touchpass-web takes it with `phone-setup` (the token in the secret
// part) to build the phone's mail settings.
#include "core/bytes.h"
#include "daemon/service.h"
#include "daemon/service_support.h"

namespace touchpass::daemon {

Status Service::phone_setup_possible(const ipc::Request& request) const {
  if (request.phone_setup && !config_.web_origin) {
    return Error{Code::invalid_argument,
                 "Phone setup goes through touchpass-web, and this touchpassd has no web_origin "
                 "in touchpassd.conf."};
  }
  return Status::success();
}

Outcome Service::with_phone_setup(Outcome done, const PendingCeremony& ceremony) {
  PhoneSetup setup;
  setup.user = ceremony.user;
  setup.name = ceremony.name;
  // Every candidate carries the same grant (issue) or the one grant (show).
  if (!ceremony.candidates.empty()) setup.scopes = ceremony.candidates.front().grant.scopes;
  setup.password = done.secret.clone();
  auto token = phone_setups_.add(std::move(setup));
  if (!token.ok()) {
    // The password exists now: it is still delivered, with the reason there is no link.
    done.result["phone_setup_error"] = token.error().message;
    return done;
  }
  done.result["phone_setup"] = {
      {"link", config_.web_origin->origin + "/setup.html#" + to_base64url(token->bytes())},
      {"expires", clock_() + phone_setups_.lifetime().count()}};
  return done;
}

Result<Outcome> Service::take_phone_setup(const Peer& gateway, const ipc::Request& request,
                                          const SecretBytes& token) {
  auto setup = phone_setups_.take(token.bytes());
  if (!setup.ok()) return setup.error();
  store::AuditEvent event = audit(gateway, "phone-setup", setup->user, setup->name);
  event.detail = "taken through touchpass-web";
  if (!request.remote.empty()) event.detail += " from " + request.remote;
  if (Status s = store_.append_audit(event); !s.ok()) return s.error();
  return Outcome{{{"user", setup->user},
                  {"name", setup->name},
                  {"scopes", setup->scopes},
                  {"expires", setup->expires}},
                 std::move(setup->password)};
}

}  // namespace touchpass::daemon
