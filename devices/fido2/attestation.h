// Verification of the attestation of a credential that fido_dev_make_cred has just created.
#pragma once

#include <fido.h>

#include <string_view>

#include "core/status.h"

namespace touchpass::devices::fido2 {

// Checks `cred` (filled by fido_dev_make_cred for `rp_id`) before anything of it is used:
// - for every format: the authenticator data's rpIdHash is SHA-256(rp_id) and its UP flag is
//   set (libfido2 checks nothing at all for fmt "none");
// - with an x5c: fido_cred_verify (the signature against x5c[0]; no chain validation);
// - without an x5c, unless fmt is "none": fido_cred_verify_self (packed self attestation).
// The signed formats also make libfido2 check that the token echoed exactly the requested
// extensions. Error verification_failed (or malformed_reply when the authenticator data is cut
// short) with a sentence; nothing else.
Status verify_attestation(const fido_cred_t* cred, std::string_view rp_id);

}  // namespace touchpass::devices::fido2
