// ShowProof: what the audit entry of a FIDO2 show keeps so that `touchpass log --verify` can
// check the show later (DESIGN.md §5, derivation.h: show_challenge): the grant shown, the nonce
// touchpassd drew for it, and what the key signed — its authenticator data, the clientDataJSON
// (v2 grants) and the signature. It is the entry's detail, one line of text:
//
//   show-proof v1 grant=<hex> nonce=<hex> auth=<hex> client=<base64url> sig=<hex>
//
// fields in this order, each once, separated by single spaces; hex in lower case, base64url
// without padding (bytes.h), so each proof has exactly one text form. `client` is empty for a
// v1 grant, whose key signs the show challenge itself. "v1" is the version of this line, not of
// the grant. The detail comes back from the store, so parse_show_proof treats it as untrusted:
// bounded before it is split, every field checked. Pure: no I/O.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/grant.h"
#include "core/status.h"

namespace touchpass {

// What every show-proof detail starts with, whatever its version.
inline constexpr std::string_view kShowProofTag = "show-proof";
// The version this build writes and reads.
inline constexpr std::string_view kShowProofVersion = "v1";

// Bounds of the fields (bytes after decoding): the show nonce (derivation.h draws 16); the
// authenticator data (rpIdHash, flags and counter, then extensions); the clientDataJSON
// (client_data.h's bound); the DER signature. They match what a finish may carry.
inline constexpr std::size_t kShowProofMinNonceBytes = 16;
inline constexpr std::size_t kShowProofMaxNonceBytes = 64;
inline constexpr std::size_t kShowProofMinAuthDataBytes = 37;
inline constexpr std::size_t kShowProofMaxAuthDataBytes = 2048;
inline constexpr std::size_t kShowProofMaxClientDataBytes = 4096;
inline constexpr std::size_t kShowProofMaxSignatureBytes = 256;
// No valid detail is longer than this; a longer one is refused before it is split.
inline constexpr std::size_t kMaxShowProofBytes = 12288;

struct ShowProof {
  GrantId grant_id;              // the grant shown
  Bytes nonce;                   // the show's nonce, as touchpassd drew it
  Bytes authenticator_data;      // as the key returned it
  std::string client_data_json;  // exactly as signed (v2); empty for a v1 grant
  Bytes signature;               // ECDSA, DER
};

// True when `detail` is meant to be a show proof: it starts with "show-proof" and a space.
// Says nothing about its version or validity (parse_show_proof does). Total.
bool is_show_proof(std::string_view detail);

// The detail line of `proof`. invalid_argument (naming the field) when a field is outside the
// bounds above or the grant id is all zero, so that nothing is written that parse_show_proof
// would refuse.
Result<std::string> encode_show_proof(const ShowProof& proof);

// The proof a detail line holds. invalid_argument with a sentence naming the problem when the
// line is longer than kMaxShowProofBytes, is not a show proof, is of another version, has an
// empty, unknown, repeated, missing or misplaced field, a field that is not lower-case hex (or
// strict base64url for `client`), or a field outside the bounds above.
Result<ShowProof> parse_show_proof(std::string_view detail);

}  // namespace touchpass
