// Enroll, issue and show from the CLI (DESIGN.md §2): begin with touchpassd, drive the key here
// through the client library (prompts on the console, PINs from the PinSource, Ctrl-C cancels),
// then finish with what the key produced. The daemon never sees the key or the PIN.
#pragma once

#include <span>
#include <string>

#include "cli/cancel.h"
#include "cli/client.h"
#include "cli/console.h"
#include "cli/daemon_channel.h"
#include "cli/prompt.h"
#include "client/key_discovery.h"
#include "core/web_origin.h"
#include "ipc/messages.h"

namespace touchpass::cli {

struct CeremonyContext {
  Console& console;
  PinSource& pins;
  const CancelFlag& cancel;
  const ExchangeTiming& timing;
  client::KeySources keys;
  std::chrono::seconds token_wait{30};  // for a key to be inserted, and for each touch
  // What the touch is for, said in the prompt: "Touch your security key to sign in to …".
  // Empty: "Touch your security key…".
  std::string purpose;
  // A remote server's origin (--server): the offer is scoped to it (offer_scope.h) before the
  // key is asked anything. nullptr: touchpassd on this computer, trusted as it is.
  const WebOrigin* server = nullptr;
};

// Sends `begin` (issue-begin, show-begin or signin-begin) on `channel`, answers the offer with
// the user's key and sends `finish`. Returns touchpassd's final answer (the grant and the
// password; a sign-in's session). Errors: touchpassd's, the key's (no_token, cancelled,
// pin_invalid, …), protocol_error for a malformed offer, and scope_offer's for a remote one.
Result<Answer> run_ceremony(DaemonChannel& channel, const ipc::Request& begin,
                            CeremonyContext& context);

// The same for enroll-begin, sent with `secret` (an invitation code, through touchpass-web): the
// key creates the credential (or proves the YubiKey slot) here. Returns touchpassd's final answer
// (the token).
Result<Answer> run_enroll_ceremony(DaemonChannel& channel, const ipc::Request& begin,
                                   CeremonyContext& context,
                                   std::span<const std::uint8_t> secret = {});

// The keys this computer sees now, as `touchpass devices` lists them: {"devices": [Device…]}
// (PROTOCOL.md "Objects").
Result<ipc::Json> list_devices(const client::KeySources& keys);

}  // namespace touchpass::cli
