// What a remote client lets a server ask of the user's key (DESIGN.md §6). A browser binds every
// WebAuthn ceremony to the site it talks to; the CLI does the same for `--server`: the client
// data must name the server's own origin, and only credentials of the server's relying-party id
// (its host, as touchpassd gives keys enrolled through the web) are asked. Otherwise a server
// the user reached could relay the offer of another one (the signature would sign the user in
// there), or ask a key's hmac-secret for another site's credential (S is the root of that
// site's app passwords). YubiKey slots and v1 grants (a server-given hash, no origin) have no
// such binding and are never asked remotely. Pure.
#pragma once

#include "core/status.h"
#include "core/web_origin.h"
#include "ipc/ceremony.h"

namespace touchpass::cli {

// Keeps in `offer` only the FIDO2 credentials with rp id `server.host` and a WebAuthn challenge.
// Errors (the offer is then not answered): permission_denied when the offer's origin is not
// `server.origin`; no_credentials when no credential is left, naming the server.
Status scope_offer(ipc::CeremonyOffer& offer, const WebOrigin& server);

// Checks that `offer` creates a FIDO2 credential for rp id `server.host` over client data
// with `server.origin`. Errors: permission_denied with a sentence naming both.
Status scope_offer(ipc::EnrollOffer& offer, const WebOrigin& server);

}  // namespace touchpass::cli
