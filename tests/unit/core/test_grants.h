// Grants shared by the core derivation tests.
#pragma once

#include "core/bytes.h"
#include "core/grant.h"

namespace touchpass::testing {

// The FIDO2 grant of tests/vectors/derivation-v1.json: valid.
inline Grant fido2_grant() {
  Grant g;
  g.grant_id = *GrantId::from_bytes(*from_hex("000102030405060708090a0b0c0d0e0f"));
  g.user = "alice";
  g.name = "thunderbird";
  g.scopes = {"imap", "smtp"};
  g.created = 1764000000;
  g.expires = 1779552000;
  g.kind = TokenKind::fido2;
  g.credential = Bytes(32, 0xaa);
  return g;
}

// The YubiKey grant of tests/vectors/derivation-v1.json: valid.
inline Grant yubikey_grant() {
  Grant g;
  g.grant_id = *GrantId::from_bytes(*from_hex("f0e1d2c3b4a5968778695a4b3c2d1e0f"));
  g.user = "bob";
  g.name = "phone mail";
  g.created = 1764003600;
  g.expires = 0;
  g.kind = TokenKind::yubikey;
  g.credential = encode_yubikey_credential({12345678, YubiKeySlot::two});
  return g;
}

}  // namespace touchpass::testing
