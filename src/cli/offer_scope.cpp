#include "cli/offer_scope.h"

#include <algorithm>

#include "cli/format.h"

namespace touchpass::cli {

namespace {

Error wrong_origin(std::string_view asked, const WebOrigin& server) {
  return Error{Code::permission_denied,
               printable(server.host) + " asked your security key to sign for \"" +
                   printable(asked) + "\", not for " + server.origin +
                   "; refusing (a server may only ask for its own origin). Use --server with the "
                   "address touchpass-web is configured with (touchpassd's web_origin)."};
}

}  // namespace

Status scope_offer(ipc::CeremonyOffer& offer, const WebOrigin& server) {
  if (offer.origin != server.origin) return wrong_origin(offer.origin, server);
  std::erase_if(offer.credentials, [&server](const ipc::OfferedCredential& c) {
    return c.kind != TokenKind::fido2 || c.rp_id != server.host || c.challenge.empty() ||
           !c.client_data_hash.empty();
  });
  if (offer.credentials.empty()) {
    return Error{Code::no_credentials,
                 "None of the keys " + server.host +
                     " offered was enrolled for it (keys enrolled on a computer itself, "
                     "YubiKeys and old grants can only be used there). Enroll a key for " +
                     server.host + " with `touchpass --server " + server.origin + " enroll`."};
  }
  return Status{};
}

Status scope_offer(ipc::EnrollOffer& offer, const WebOrigin& server) {
  if (offer.kind != TokenKind::fido2) {
    return Error{Code::permission_denied,
                 server.host +
                     " asked to enroll a YubiKey; only FIDO2 keys are enrolled through "
                     "touchpass-web."};
  }
  if (offer.origin != server.origin) return wrong_origin(offer.origin, server);
  if (offer.rp_id != server.host) {
    return Error{Code::permission_denied,
                 server.host + " asked to create a credential for \"" + printable(offer.rp_id) +
                     "\"; refusing (a server may only enroll keys for its own name)."};
  }
  return Status{};
}

}  // namespace touchpass::cli
