// authenticatorMakeCredential (0x01): ES256 credentials with packed attestation, credProtect and
// hmac-secret.
#include <algorithm>

#include "core/cbor_writer.h"
#include "devices/virtual/auth_data.h"
#include "devices/virtual/authenticator_impl.h"

namespace touchpass::vtoken {

namespace {

constexpr std::size_t kCredentialIdSize = 32;
constexpr std::size_t kCredRandomSize = 32;

// The parameters of one makeCredential request, type-checked.
struct MakeCredentialRequest {
  Bytes client_data_hash;
  std::string rp_id;
  UserEntity user;
  bool es256_offered = false;
  std::vector<Bytes> exclude_ids;
  bool hmac_secret = false;
  std::optional<int> cred_protect;
  bool rk = false;
  bool uv = false;
  bool up = true;
  const cbor_item_t* pin_uv_auth_param = nullptr;
  const cbor_item_t* pin_uv_auth_protocol = nullptr;
};

std::optional<std::string> optional_text(const CborMap& map, std::string_view key) {
  const cbor_item_t* value = map.find(key);
  return value != nullptr ? std::optional(as_text(value)) : std::nullopt;
}

// Whether `params` (an array of {"alg", "type"}) offers ES256 with type "public-key".
bool offers_es256(const cbor_item_t* params) {
  bool found = false;
  for (const cbor_item_t* item : as_array(params)) {
    const CborMap entry(item);
    const std::int64_t alg = as_int(entry.require("alg"));
    const std::string type = as_text(entry.require("type"));
    if (alg == kCoseEs256 && type == "public-key") found = true;
  }
  return found;
}

void read_options(const cbor_item_t* options, MakeCredentialRequest& r) {
  const CborMap map(options);
  if (const cbor_item_t* v = map.find("rk")) r.rk = as_bool(v);
  if (const cbor_item_t* v = map.find("uv")) r.uv = as_bool(v);
  if (const cbor_item_t* v = map.find("up")) r.up = as_bool(v);
}

void read_extensions(const cbor_item_t* extensions, MakeCredentialRequest& r) {
  const CborMap map(extensions);
  if (const cbor_item_t* v = map.find("hmac-secret")) r.hmac_secret = as_bool(v);
  if (const cbor_item_t* v = map.find("credProtect")) {
    const std::int64_t level = as_int(v);
    if (level < 1 || level > 3) throw CtapError(ctap::kInvalidParameter);
    r.cred_protect = static_cast<int>(level);
  }
}

MakeCredentialRequest parse_make_credential(const cbor_item_t* params) {
  const CborMap m(params);
  MakeCredentialRequest r;
  r.client_data_hash = as_bytes(m.require(1));
  const CborMap rp(m.require(2));
  r.rp_id = as_text(rp.require("id"));
  optional_text(rp, "name");
  const CborMap user(m.require(3));
  r.user.id = as_bytes(user.require("id"));
  r.user.name = optional_text(user, "name");
  r.user.display_name = optional_text(user, "displayName");
  r.es256_offered = offers_es256(m.require(4));
  if (const cbor_item_t* list = m.find(5)) {
    for (const cbor_item_t* item : as_array(list)) {
      const CborMap descriptor(item);
      Bytes id = as_bytes(descriptor.require("id"));
      if (as_text(descriptor.require("type")) == "public-key")
        r.exclude_ids.push_back(std::move(id));
    }
  }
  if (const cbor_item_t* extensions = m.find(6)) read_extensions(extensions, r);
  if (const cbor_item_t* options = m.find(7)) read_options(options, r);
  r.pin_uv_auth_param = m.find(8);
  if (r.pin_uv_auth_param != nullptr) bytes_view(r.pin_uv_auth_param);
  r.pin_uv_auth_protocol = m.find(9);
  if (r.pin_uv_auth_protocol != nullptr) as_int(r.pin_uv_auth_protocol);
  return r;
}

// The authData extensions map echoing what was requested and applied, or nullopt.
std::optional<Bytes> extension_outputs(std::optional<int> cred_protect, bool hmac_secret) {
  if (!cred_protect && !hmac_secret) return std::nullopt;
  CborWriter w;
  w.map((cred_protect ? 1U : 0U) + (hmac_secret ? 1U : 0U));
  if (cred_protect) w.text("credProtect").uint(static_cast<std::uint64_t>(*cred_protect));
  if (hmac_secret) w.text("hmac-secret").boolean(true);
  return w.take();
}

}  // namespace

Bytes Authenticator::Impl::make_credential(const cbor_item_t* params, CommandContext& ctx) {
  const MakeCredentialRequest r = parse_make_credential(params);
  if (r.pin_uv_auth_param != nullptr && bytes_view(r.pin_uv_auth_param).empty()) answer_probe(ctx);
  const PinProtocol* protocol = nullptr;
  if (r.pin_uv_auth_param != nullptr) {
    if (r.pin_uv_auth_protocol == nullptr) throw CtapError(ctap::kMissingParameter);
    protocol = &pin_protocol(r.pin_uv_auth_protocol);
  }
  if (!r.es256_offered) throw CtapError(ctap::kUnsupportedAlgorithm);
  if (r.uv || !r.up) throw CtapError(ctap::kInvalidOption);
  if (state.pin_hash && protocol == nullptr) throw CtapError(ctap::kPinRequired);
  const bool user_verified = protocol != nullptr || config.always_uv;
  if (protocol != nullptr)
    verify_pin_uv_auth(*protocol, bytes_view(r.pin_uv_auth_param), r.client_data_hash,
                       kPermissionMakeCredential, r.rp_id);

  const Bytes rp_id_hash = crypto::sha256(bytes_of(r.rp_id));
  for (const Bytes& id : r.exclude_ids) {
    const StoredCredential* excluded = find_credential(id, rp_id_hash);
    if (excluded != nullptr && (excluded->cred_protect < 3 || user_verified)) {
      wait_for_presence(ctx);
      throw CtapError(ctap::kCredentialExcluded);
    }
  }
  wait_for_presence(ctx);

  const auto key = crypto::P256Key::generate();
  StoredCredential credential;
  credential.id = crypto::random_bytes(kCredentialIdSize);
  credential.rp_id_hash = rp_id_hash;
  credential.private_key = key.private_der();
  credential.cred_random_uv = crypto::random_secret(kCredRandomSize);
  credential.cred_random_no_uv = crypto::random_secret(kCredRandomSize);
  credential.cred_protect = config.ignore_cred_protect ? 1 : r.cred_protect.value_or(1);
  credential.hmac_secret = r.hmac_secret && config.hmac_secret;
  credential.resident = r.rk;
  if (r.rk) credential.user = r.user;

  const std::uint32_t counter = next_sign_count();
  credential.created = counter;
  const Bytes cose_key = encode_cose_key(key, kCoseEs256);
  const std::uint8_t flags = kFlagUp | (user_verified ? kFlagUv : 0);
  const Bytes auth_data = encode_auth_data(
      rp_id_hash, flags, counter, AttestedCredential{state.aaguid, credential.id, cose_key},
      extension_outputs(r.cred_protect, credential.hmac_secret));

  const Bytes signed_data = crypto::concat(auth_data, r.client_data_hash);
  CborWriter att_stmt;
  if (config.self_attestation) {
    att_stmt.map(2).text("alg").nint(kCoseEs256).text("sig").bytes(key.sign(signed_data));
  } else {
    const auto attestation = crypto::P256Key::from_private_der(state.attestation_key.bytes());
    if (!attestation) throw CtapError(ctap::kOther);
    att_stmt.map(3).text("alg").nint(kCoseEs256).text("sig").bytes(attestation->sign(signed_data));
    att_stmt.text("x5c").array(1).bytes(state.attestation_certificate);
  }

  if (r.rk) {
    std::erase_if(state.credentials, [&](const StoredCredential& c) {
      return c.resident && c.rp_id_hash == rp_id_hash && c.user.id == r.user.id;
    });
  }
  state.credentials.push_back(std::move(credential));
  save();

  CborWriter w;
  w.map(3);
  w.uint(1).text("packed");
  w.uint(2).bytes(auth_data);
  w.uint(3).raw(att_stmt.data());
  return w.take();
}

}  // namespace touchpass::vtoken
