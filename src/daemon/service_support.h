// What the request handlers of Service share (internal to src/daemon): labels, UTF-8
// truncation, the stored names of user-verification modes, the grant a stored record was issued
// as, the offer entry of a ceremony's candidate, and the JSON a listing shows of tokens and
// grants.
#pragma once

#include <cstddef>
#include <string>

#include "core/grant.h"
#include "core/password.h"
#include "core/secret.h"
#include "core/status.h"
#include "daemon/ceremonies.h"
#include "daemon/peer.h"
#include "devices/token.h"
#include "ipc/messages.h"
#include "store/records.h"

namespace touchpass::daemon {

inline constexpr std::size_t kMaxLabelBytes = 64;

// Success if `label` may name a token: 1 to 64 bytes, no control characters; else
// invalid_argument with a sentence.
Status validate_label(const std::string& label);

// The longest prefix of `text` of at most `max` bytes that does not cut a UTF-8 sequence.
std::string utf8_prefix(const std::string& text, std::size_t max);

// "pin" or "presence": how a token's user verification is stored; and back (anything but
// "presence" is pin, the stricter).
std::string uv_name(devices::UserVerification uv);
devices::UserVerification uv_from_name(const std::string& name);

// The grant (DESIGN.md §5.1) a stored grant record was issued as; invalid_argument if the
// record's id cannot be a grant's.
Result<Grant> grant_of(const store::GrantRecord& record);

// The password as the secret part of an answer.
SecretBytes password_secret(const AppPassword& password);

// The offer entry of one ceremony candidate (ipc/ceremony.h).
ipc::OfferedCredential offered_credential(const CeremonyCandidate& c);

// A token and a grant as `tokens`, `list` and `show` answer them.
// `user` acting through the gateway `gateway`: none of the gateway's own rights or groups.
Peer web_peer(const Peer& gateway, const std::string& user);

ipc::Json token_json(const store::TokenRecord& t);
ipc::Json grant_json(const store::GrantRecord& g, const std::string& token_label);

}  // namespace touchpass::daemon
