// clientPIN (0x06) and the pinUvAuthToken checks of makeCredential and getAssertion.
#include <openssl/crypto.h>

#include <algorithm>
#include <string>

#include "core/cbor_writer.h"
#include "devices/virtual/auth_data.h"
#include "devices/virtual/authenticator_impl.h"
#include "devices/virtual/pin_policy.h"

namespace touchpass::vtoken {

namespace {

constexpr std::int64_t kGetRetries = 1;
constexpr std::int64_t kGetKeyAgreement = 2;
constexpr std::int64_t kSetPin = 3;
constexpr std::int64_t kChangePin = 4;
constexpr std::int64_t kGetPinToken = 5;
constexpr std::int64_t kGetPinUvAuthTokenUsingPinWithPermissions = 9;

// The name of a clientPIN subcommand in the command trace.
std::string subcommand_name(std::int64_t subcommand) {
  switch (subcommand) {
    case kGetRetries:
      return "clientPin.getRetries";
    case kGetKeyAgreement:
      return "clientPin.getKeyAgreement";
    case kSetPin:
      return "clientPin.setPin";
    case kChangePin:
      return "clientPin.changePin";
    case kGetPinToken:
      return "clientPin.getPinToken";
    case kGetPinUvAuthTokenUsingPinWithPermissions:
      return "clientPin.getPinUvAuthToken";
    default:
      return "clientPin." + std::to_string(subcommand);
  }
}

constexpr std::size_t kPaddedPinSize = 64;
constexpr std::size_t kPinHashSize = 16;
constexpr int kPinAuthBlockAfter = 3;

using ByteView = std::span<const std::uint8_t>;

// The new PIN in `new_pin_enc` (zero-padded to 64 bytes), checked against the PIN policy.
SecretBytes decrypt_new_pin(const PinProtocol& protocol, const SecretBytes& shared_secret,
                            ByteView new_pin_enc) {
  auto padded = protocol.decrypt(shared_secret, new_pin_enc);
  if (!padded || padded->size() != kPaddedPinSize) throw CtapError(ctap::kInvalidParameter);
  const auto bytes = padded->bytes();
  const auto end = std::find(bytes.begin(), bytes.end(), std::uint8_t{0});
  const auto pin = bytes.first(static_cast<std::size_t>(end - bytes.begin()));
  if (!pin_meets_policy(pin)) throw CtapError(ctap::kPinPolicyViolation);
  return SecretBytes::copy_of(pin);
}

}  // namespace

const PinProtocol& Authenticator::Impl::pin_protocol(const cbor_item_t* value) const {
  const std::int64_t version = as_int(value);
  const auto& offered = config.pin_protocols;
  const PinProtocol* protocol = find_pin_protocol(version);
  if (protocol == nullptr || std::find(offered.begin(), offered.end(), version) == offered.end())
    throw CtapError(ctap::kInvalidParameter);
  return *protocol;
}

SecretBytes Authenticator::Impl::shared_secret(const PinProtocol& protocol,
                                               const cbor_item_t* cose_key) const {
  const CborMap key(cose_key);
  const std::int64_t kty = as_int(key.require(1));
  const cbor_item_t* alg = key.find(3);
  const std::int64_t crv = as_int(key.require(-1));
  const auto x = bytes_view(key.require(-2));
  const auto y = bytes_view(key.require(-3));
  if (kty != 2 || crv != 1 || (alg != nullptr && as_int(alg) != kCoseEcdhEsHkdf256))
    throw CtapError(ctap::kInvalidParameter);
  auto secret = protocol.shared_secret(key_agreement, x, y);
  if (!secret) throw CtapError(ctap::kInvalidParameter);
  return std::move(*secret);
}

void Authenticator::Impl::verify_pin_uv_auth(const PinProtocol& protocol, ByteView param,
                                             ByteView client_data_hash, std::uint8_t permission,
                                             const std::string& rp_id) {
  if (!protocol.verify(pin_token.value.bytes(), client_data_hash, param) ||
      (pin_token.permissions & permission) == 0 || (pin_token.rp_id && *pin_token.rp_id != rp_id))
    throw CtapError(ctap::kPinAuthInvalid);
  if (!pin_token.rp_id) pin_token.rp_id = rp_id;
}

void Authenticator::Impl::answer_probe(CommandContext& ctx) {
  wait_for_presence(ctx);
  throw CtapError(state.pin_hash ? ctap::kPinInvalid : ctap::kPinNotSet);
}

void Authenticator::Impl::check_pin_usable() const {
  if (!state.pin_hash) throw CtapError(ctap::kPinNotSet);
  if (state.pin_retries <= 0) throw CtapError(ctap::kPinBlocked);
  if (consecutive_pin_failures >= kPinAuthBlockAfter) throw CtapError(ctap::kPinAuthBlocked);
}

void Authenticator::Impl::check_pin_hash(const PinProtocol& protocol,
                                         const SecretBytes& shared_secret, ByteView pin_hash_enc) {
  auto given = protocol.decrypt(shared_secret, pin_hash_enc);
  if (!given || given->size() != kPinHashSize) throw CtapError(ctap::kInvalidParameter);
  if (!given->equals(*state.pin_hash)) {
    --state.pin_retries;
    ++consecutive_pin_failures;
    key_agreement = crypto::P256Key::generate();
    save();
    if (state.pin_retries <= 0) throw CtapError(ctap::kPinBlocked);
    if (consecutive_pin_failures >= kPinAuthBlockAfter) throw CtapError(ctap::kPinAuthBlocked);
    throw CtapError(ctap::kPinInvalid);
  }
  consecutive_pin_failures = 0;
  if (state.pin_retries != config.max_pin_retries) {
    state.pin_retries = config.max_pin_retries;
    save();
  }
}

Bytes Authenticator::Impl::client_pin(const cbor_item_t* params) {
  const CborMap m(params);
  const cbor_item_t* protocol_item = m.find(1);
  const std::int64_t subcommand = as_int(m.require(2));
  trace.push_back(subcommand_name(subcommand));
  if (subcommand == kGetRetries) {
    // Platforms (libfido2 among them) send protocol 1 here whatever the token offers: only its
    // type is checked.
    if (protocol_item != nullptr) as_int(protocol_item);
    return pin_get_retries();
  }
  if (subcommand == kGetPinUvAuthTokenUsingPinWithPermissions && !config.ctap21)
    throw CtapError(kInvalidSubcommand);
  if (subcommand < kGetKeyAgreement || subcommand > kGetPinUvAuthTokenUsingPinWithPermissions ||
      (subcommand > kGetPinToken && subcommand < kGetPinUvAuthTokenUsingPinWithPermissions))
    throw CtapError(kInvalidSubcommand);

  const PinProtocol& protocol = pin_protocol(m.require(1));
  switch (subcommand) {
    case kGetKeyAgreement:
      return pin_get_key_agreement();
    case kSetPin:
      return pin_set(m, protocol);
    case kChangePin:
      return pin_change(m, protocol);
    case kGetPinToken:
      return pin_get_token(m, protocol, false);
    default:
      return pin_get_token(m, protocol, true);
  }
}

Bytes Authenticator::Impl::pin_get_retries() const {
  CborWriter w;
  w.map(config.ctap21 ? 2 : 1);
  w.uint(3).uint(static_cast<std::uint64_t>(std::max(state.pin_retries, 0)));
  if (config.ctap21) w.uint(4).boolean(false);
  return w.take();
}

Bytes Authenticator::Impl::pin_get_key_agreement() const {
  CborWriter w;
  w.map(1).uint(1).raw(encode_cose_key(key_agreement, kCoseEcdhEsHkdf256));
  return w.take();
}

Bytes Authenticator::Impl::pin_set(const CborMap& params, const PinProtocol& protocol) {
  const cbor_item_t* platform_key = params.require(3);
  const auto auth = bytes_view(params.require(4));
  const auto new_pin_enc = bytes_view(params.require(5));
  if (state.pin_hash) throw CtapError(ctap::kNotAllowed);
  const SecretBytes secret = shared_secret(protocol, platform_key);
  if (!protocol.verify(secret.bytes(), new_pin_enc, auth)) throw CtapError(ctap::kPinAuthInvalid);
  const SecretBytes pin = decrypt_new_pin(protocol, secret, new_pin_enc);
  state.pin_hash = pin_hash(pin.bytes());
  state.pin_retries = config.max_pin_retries;
  save();
  return {};
}

Bytes Authenticator::Impl::pin_change(const CborMap& params, const PinProtocol& protocol) {
  const cbor_item_t* platform_key = params.require(3);
  const auto auth = bytes_view(params.require(4));
  const auto new_pin_enc = bytes_view(params.require(5));
  const auto pin_hash_enc = bytes_view(params.require(6));
  check_pin_usable();
  const SecretBytes secret = shared_secret(protocol, platform_key);
  if (!protocol.verify(secret.bytes(), crypto::concat(new_pin_enc, pin_hash_enc), auth))
    throw CtapError(ctap::kPinAuthInvalid);
  check_pin_hash(protocol, secret, pin_hash_enc);
  const SecretBytes pin = decrypt_new_pin(protocol, secret, new_pin_enc);
  state.pin_hash = pin_hash(pin.bytes());
  new_pin_uv_auth_token();
  save();
  return {};
}

Bytes Authenticator::Impl::pin_get_token(const CborMap& params, const PinProtocol& protocol,
                                         bool with_permissions) {
  const cbor_item_t* platform_key = params.require(3);
  const auto pin_hash_enc = bytes_view(params.require(6));
  std::uint8_t permissions = kPermissionMakeCredential | kPermissionGetAssertion;
  std::optional<std::string> rp_id;
  if (with_permissions) {
    const std::int64_t requested = as_int(params.require(9));
    if (const cbor_item_t* rp = params.find(10)) rp_id = as_text(rp);
    if (requested <= 0 || requested > 0xff) throw CtapError(ctap::kInvalidParameter);
    if ((requested & ~std::int64_t{kPermissionMakeCredential | kPermissionGetAssertion}) != 0)
      throw CtapError(kUnauthorizedPermission);
    if (!rp_id) throw CtapError(ctap::kMissingParameter);
    permissions = static_cast<std::uint8_t>(requested);
  } else if (params.find(9) != nullptr || params.find(10) != nullptr) {
    throw CtapError(ctap::kInvalidParameter);
  }
  check_pin_usable();
  const SecretBytes secret = shared_secret(protocol, platform_key);
  check_pin_hash(protocol, secret, pin_hash_enc);
  new_pin_uv_auth_token();
  pin_token.permissions = permissions;
  pin_token.rp_id = std::move(rp_id);
  CborWriter w;
  w.map(1).uint(2).bytes(protocol.encrypt(secret, pin_token.value.bytes()));
  return w.take();
}

}  // namespace touchpass::vtoken
