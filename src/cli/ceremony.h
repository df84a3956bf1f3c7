// Enroll, issue and show from the CLI (DESIGN.md §2): begin with touchpassd, drive the key here
// through the client library (prompts on the console, PINs from the PinSource, Ctrl-C cancels),
// then finish with what the key produced. The daemon never sees the key or the PIN.
#pragma once

#include "cli/cancel.h"
#include "cli/client.h"
#include "cli/console.h"
#include "cli/prompt.h"
#include "client/key_discovery.h"
#include "ipc/messages.h"

namespace touchpass::cli {

struct CeremonyContext {
  Console& console;
  PinSource& pins;
  const CancelFlag& cancel;
  const ExchangeTiming& timing;
  client::KeySources keys;
  std::chrono::seconds token_wait{30};  // for a key to be inserted, and for each touch
};

// Sends `begin` (issue-begin or show-begin) on the connected socket `fd`, answers the offer with
// the user's key and sends `finish`. Returns touchpassd's final answer (the grant and the
// password). Errors: touchpassd's, the key's (no_token, cancelled, pin_invalid, …) and
// protocol_error for a malformed offer.
Result<Answer> run_ceremony(int fd, const ipc::Request& begin, CeremonyContext& context);

// The same for enroll-begin: the key creates the credential (or proves the YubiKey slot) here.
// Returns touchpassd's final answer (the token).
Result<Answer> run_enroll_ceremony(int fd, const ipc::Request& begin, CeremonyContext& context);

// The keys this computer sees now, as `touchpass devices` lists them: {"devices": [Device…]}
// (PROTOCOL.md "Objects").
Result<ipc::Json> list_devices(const client::KeySources& keys);

}  // namespace touchpass::cli
