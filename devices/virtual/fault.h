// Fault injection for the virtual token's replies (Config::fault).
#pragma once

#include "core/bytes.h"
#include "devices/virtual/authenticator.h"

namespace touchpass::vtoken {

// `reply` (status byte + CBOR body) corrupted as `fault` says; `has_auth_data` tells whether it
// answers makeCredential, getAssertion or getNextAssertion. Only successful replies with a body
// are changed:
//   truncated     the body is cut to half its length;
//   wrong_length  the first byte string of the body (depth first: authData, a key coordinate,
//                 an encrypted token) loses its last byte; the CBOR stays well-formed;
//   bad_cbor      the body is replaced by bytes that are not CBOR;
//   huge_array    the body is replaced by the header of an array of 2^28 items (9a 10000000),
//                 which libcbor would allocate 2 GiB for;
//   huge_array_in_auth_data  only with `has_auth_data`: the same header inside authData (key
//                 2), where libfido2 decodes the COSE key (AT set) or the extension outputs
//                 (ED set, else); the answer itself stays well-formed.
Bytes apply_fault(Fault fault, Bytes reply, bool has_auth_data);

}  // namespace touchpass::vtoken
