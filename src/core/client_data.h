// WebAuthn client data (WebAuthn L3 §5.8.1, DESIGN.md §5.2): the JSON a client (a browser, or
// the touchpass CLI for v2 grants) builds around a challenge, whose SHA-256 the key signs.
// touchpassd parses what it receives and checks the fields that bind it to a ceremony: the
// type, the challenge and the origin. Pure: no I/O.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/status.h"

namespace touchpass {

// Client data larger than this is refused before parsing (a browser's is ~150 bytes).
inline constexpr std::size_t kMaxClientDataBytes = 4096;
// Nesting deeper than this is refused while parsing (WebAuthn client data is flat; tokenBinding
// nests one level).
inline constexpr int kMaxClientDataDepth = 4;

inline constexpr std::string_view kClientDataGet = "webauthn.get";
inline constexpr std::string_view kClientDataCreate = "webauthn.create";

struct ClientData {
  std::string type;    // "webauthn.get" or "webauthn.create"
  Bytes challenge;     // base64url-decoded
  std::string origin;  // e.g. "https://mail.example.org"
  bool cross_origin = false;
};

// Parses `json`, the clientDataJSON exactly as it will be hashed. verification_failed with a
// sentence when it is larger than kMaxClientDataBytes, nests deeper than kMaxClientDataDepth,
// is not a JSON object, or lacks a string "type", "challenge" (strict base64url) or "origin", or
// has a "crossOrigin" that is not a boolean. Unknown members are ignored, as WebAuthn requires.
Result<ClientData> parse_client_data(std::string_view json);

// SHA-256 of the client data exactly as received: the clientDataHash the key signs. internal if
// OpenSSL fails.
Result<std::array<std::uint8_t, 32>> client_data_hash(std::string_view json);

// What a ceremony expects of the client data it gets back.
struct ClientDataExpectation {
  std::string_view type;                    // kClientDataGet or kClientDataCreate
  std::span<const std::uint8_t> challenge;  // the bytes the ceremony issued
  std::span<const std::string> origins;     // the accepted origins (exact match)
};

// Success when `data` has the expected type and challenge, an accepted origin and crossOrigin
// false; else verification_failed with a sentence naming the field (never echoing the
// client's text, which may hold anything).
Status check_client_data(const ClientData& data, const ClientDataExpectation& expected);

}  // namespace touchpass
