// The catalog of known security keys: USB ids, names, the interfaces touchpass uses and the
// capabilities the models are known to offer, plus the AAGUIDs of known FIDO2 models. One data
// file, devices/catalog/tokens.json, is the source: at build time touchpass-catalog-gen turns it
// into this table and into udev/70-touchpass.rules (DESIGN.md §3, STYLE.md principle 7).
//
// The catalog names keys and says what to expect; it never replaces asking the key itself
// (getInfo, YubiKey slot status) before relying on a capability.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace touchpass::devices::catalog {

// Interfaces (bits of CatalogEntry::interfaces).
inline constexpr std::uint8_t kFidoHid = 1u << 0;  // FIDO HID: hidraw, libfido2
inline constexpr std::uint8_t kOtpHid = 1u << 1;   // YubiKey OTP application: libusb, libykpers

// Capabilities (bits of CatalogEntry::capabilities).
inline constexpr std::uint8_t kU2f = 1u << 0;
inline constexpr std::uint8_t kFido2 = 1u << 1;
inline constexpr std::uint8_t kHmacSecret = 1u << 2;            // FIDO2 hmac-secret extension
inline constexpr std::uint8_t kOtpChallengeResponse = 1u << 3;  // YubiKey HMAC-SHA1 slots

// One USB vendor:product id. Several models may share an id (the note says which, and what
// older ones lack); the capabilities are what models under this id are known to offer.
struct CatalogEntry {
  std::uint16_t vendor_id;
  std::uint16_t product_id;
  std::string_view vendor;   // e.g. "Yubico"
  std::string_view product;  // e.g. "YubiKey 5 / YubiKey 4 (OTP+FIDO+CCID)"
  std::uint8_t interfaces;   // kFidoHid | kOtpHid
  std::uint8_t capabilities;
  std::string_view note;  // may be empty

  bool has_interface(std::uint8_t interface) const { return (interfaces & interface) != 0; }
  bool has_capability(std::uint8_t capability) const { return (capabilities & capability) != 0; }
};

// A FIDO2 model known by its AAGUID.
struct KnownModel {
  std::string_view aaguid;  // lowercase, 8-4-4-4-12 hex digits with dashes
  std::string_view vendor;
  std::string_view name;
};

// Every known USB id, sorted by (vendor_id, product_id); no id appears twice.
std::span<const CatalogEntry> all_tokens();

// The entry for a USB id, or nullptr when the id is not in the catalog.
const CatalogEntry* find_token(std::uint16_t vendor_id, std::uint16_t product_id);

// Every known FIDO2 model, sorted by AAGUID; no AAGUID appears twice.
std::span<const KnownModel> all_models();

// The model with this AAGUID (8-4-4-4-12 form, either case), or nullptr when unknown or
// malformed.
const KnownModel* find_model(std::string_view aaguid);

}  // namespace touchpass::devices::catalog
