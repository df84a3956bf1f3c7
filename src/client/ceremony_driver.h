// The client's half of a ceremony (DESIGN.md §2): given touchpassd's offer, find the key the
// user presents, ask it what the offer says (an hmac-secret assertion over the offered challenge,
// or the YubiKey's three challenge-responses), and build the `finish` that touchpassd checks.
// Prompts (insert, touch, select, PIN) go through the Interaction; a wrong PIN is asked again
// while the key has tries left.
#pragma once

#include <chrono>
#include <span>
#include <string>
#include <string_view>

#include "client/interaction.h"
#include "client/token_broker.h"
#include "core/secret.h"
#include "core/status.h"
#include "ipc/ceremony.h"

namespace touchpass::client {

// What the key produced: the finish message and S (ipc::Finish) for its secret part.
struct KeyAnswer {
  ipc::Finish finish;
  SecretBytes secret;
};

struct DriverSettings {
  std::chrono::milliseconds token_timeout{30000};  // each key operation, touch included
};

// The clientDataJSON (WebAuthn L3 §5.8.1) the client signs: `type` (webauthn.get or
// webauthn.create), the challenge in base64url, `origin`, crossOrigin false.
std::string client_data_json(std::span<const std::uint8_t> challenge, std::string_view origin,
                             std::string_view type = "webauthn.get");

// Answers `offer` with a key leased from `broker`. Errors: those of the broker (no_token,
// cancelled, …) and of the key; no_credentials when the presented key holds none of the offered
// credentials ("this key does not hold …"), before any PIN is asked unless a credential that
// needs the PIN must be looked for; pin_blocked when no tries are left.
Result<KeyAnswer> answer_offer(const ipc::CeremonyOffer& offer, TokenBroker& broker,
                               Interaction& io, const DriverSettings& settings);

// Answers an enroll offer with a key leased from `broker`: FIDO2 — creates the credential (one
// touch), setting the key's first PIN when it has none and the offer needs one (need-new-pin),
// or asking the PIN when the key has one (asked again after a wrong one); YubiKey — programs the
// slot when the offer says so, then answers the rolling challenge. Errors: the broker's and the
// key's; capability_missing when a YubiKey hides its serial; not_found for an unprogrammed slot.
Result<KeyAnswer> answer_enroll(const ipc::EnrollOffer& offer, TokenBroker& broker, Interaction& io,
                                const DriverSettings& settings);

}  // namespace touchpass::client
