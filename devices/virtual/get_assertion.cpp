// authenticatorGetAssertion (0x02) and authenticatorGetNextAssertion (0x08), with credProtect
// and the hmac-secret extension.
#include <algorithm>

#include "core/cbor_writer.h"
#include "devices/virtual/auth_data.h"
#include "devices/virtual/authenticator_impl.h"

namespace touchpass::vtoken {

namespace {

constexpr std::size_t kSaltSize = 32;

// The parameters of one getAssertion request, type-checked.
struct GetAssertionRequest {
  std::string rp_id;
  Bytes client_data_hash;
  std::optional<std::vector<Bytes>> allow_ids;  // nullopt: no (or an empty) allowList
  const cbor_item_t* hmac_secret = nullptr;     // the hmac-secret input map
  bool up = true;
  bool uv = false;
  bool rk_option = false;
  const cbor_item_t* pin_uv_auth_param = nullptr;
  const cbor_item_t* pin_uv_auth_protocol = nullptr;
};

std::vector<Bytes> read_allow_list(const cbor_item_t* list) {
  std::vector<Bytes> ids;
  for (const cbor_item_t* item : as_array(list)) {
    const CborMap descriptor(item);
    Bytes id = as_bytes(descriptor.require("id"));
    if (as_text(descriptor.require("type")) == "public-key") ids.push_back(std::move(id));
  }
  return ids;
}

GetAssertionRequest parse_get_assertion(const cbor_item_t* params) {
  const CborMap m(params);
  GetAssertionRequest r;
  r.rp_id = as_text(m.require(1));
  r.client_data_hash = as_bytes(m.require(2));
  if (const cbor_item_t* list = m.find(3)) {
    auto ids = read_allow_list(list);
    if (!as_array(list).empty()) r.allow_ids = std::move(ids);
  }
  if (const cbor_item_t* extensions = m.find(4)) {
    const CborMap map(extensions);
    r.hmac_secret = map.find("hmac-secret");
    if (r.hmac_secret != nullptr) as_map(r.hmac_secret);
  }
  if (const cbor_item_t* options = m.find(5)) {
    const CborMap map(options);
    if (const cbor_item_t* v = map.find("up")) r.up = as_bool(v);
    if (const cbor_item_t* v = map.find("uv")) r.uv = as_bool(v);
    if (const cbor_item_t* v = map.find("rk")) {
      as_bool(v);
      r.rk_option = true;
    }
  }
  r.pin_uv_auth_param = m.find(6);
  if (r.pin_uv_auth_param != nullptr) bytes_view(r.pin_uv_auth_param);
  r.pin_uv_auth_protocol = m.find(7);
  if (r.pin_uv_auth_protocol != nullptr) as_int(r.pin_uv_auth_protocol);
  return r;
}

// The encrypted hmac-secret output for `credential`, or nullopt when it has no hmac-secret.
std::optional<Bytes> hmac_secret_output(const StoredCredential& credential,
                                        const HmacSecretRequest& request, bool user_verified) {
  if (!credential.hmac_secret) return std::nullopt;
  const SecretBytes& cred_random =
      user_verified ? credential.cred_random_uv : credential.cred_random_no_uv;
  SecretBytes output(request.salts.size());
  for (std::size_t offset = 0; offset < request.salts.size(); offset += kSaltSize) {
    const SecretBytes mac =
        crypto::hmac_sha256(cred_random.bytes(), request.salts.bytes().subspan(offset, kSaltSize));
    std::copy(mac.data(), mac.data() + mac.size(), output.data() + offset);
  }
  return request.protocol->encrypt(request.shared_secret, output.bytes());
}

void write_user(CborWriter& w, const UserEntity& user, bool identifying) {
  const bool name = identifying && user.name.has_value();
  const bool display_name = identifying && user.display_name.has_value();
  w.map(1U + (name ? 1U : 0U) + (display_name ? 1U : 0U));
  w.text("id").bytes(user.id);
  if (name) w.text("name").text(*user.name);
  if (display_name) w.text("displayName").text(*user.display_name);
}

}  // namespace

Bytes Authenticator::Impl::get_assertion(const cbor_item_t* params, CommandContext& ctx) {
  const GetAssertionRequest r = parse_get_assertion(params);
  if (r.pin_uv_auth_param != nullptr && bytes_view(r.pin_uv_auth_param).empty()) answer_probe(ctx);
  const PinProtocol* protocol = nullptr;
  if (r.pin_uv_auth_param != nullptr) {
    if (r.pin_uv_auth_protocol == nullptr) throw CtapError(ctap::kMissingParameter);
    protocol = &pin_protocol(r.pin_uv_auth_protocol);
  }
  if (r.rk_option) throw CtapError(ctap::kUnsupportedOption);
  if (r.uv) throw CtapError(ctap::kInvalidOption);
  if (protocol != nullptr)
    verify_pin_uv_auth(*protocol, bytes_view(r.pin_uv_auth_param), r.client_data_hash,
                       kPermissionGetAssertion, r.rp_id);

  PendingAssertions request;
  request.rp_id_hash = crypto::sha256(bytes_of(r.rp_id));
  request.client_data_hash = r.client_data_hash;
  request.user_present = r.up;
  // Built-in UV needs the user at the sensor, so always_uv verifies only with presence.
  request.user_verified = protocol != nullptr || (config.always_uv && r.up);
  if (r.hmac_secret != nullptr && config.hmac_secret)
    request.hmac_secret = read_hmac_secret(r.hmac_secret);

  request.credential_ids = matching_credentials(request, r.allow_ids);
  if (request.credential_ids.empty()) throw CtapError(ctap::kNoCredentials);
  if (r.up) wait_for_presence(ctx);

  const Bytes first_id = request.credential_ids.front();
  request.credential_ids.erase(request.credential_ids.begin());
  const StoredCredential* first = find_credential(first_id, request.rp_id_hash);
  if (first == nullptr) throw CtapError(ctap::kNoCredentials);  // reset while waiting
  const std::size_t count = request.credential_ids.size() + 1;
  Bytes reply = assertion_reply(*first, request, count > 1 ? std::optional(count) : std::nullopt);
  if (!request.credential_ids.empty()) pending = std::move(request);
  return reply;
}

Bytes Authenticator::Impl::get_next_assertion() {
  if (!pending || pending->credential_ids.empty()) throw CtapError(ctap::kNotAllowed);
  const Bytes id = pending->credential_ids.front();
  pending->credential_ids.erase(pending->credential_ids.begin());
  const StoredCredential* credential = find_credential(id, pending->rp_id_hash);
  if (credential == nullptr) throw CtapError(ctap::kNoCredentials);
  Bytes reply = assertion_reply(*credential, *pending, std::nullopt);
  if (pending->credential_ids.empty()) pending.reset();
  return reply;
}

HmacSecretRequest Authenticator::Impl::read_hmac_secret(const cbor_item_t* input) const {
  const CborMap m(input);
  const cbor_item_t* platform_key = m.require(1);
  const auto salt_enc = bytes_view(m.require(2));
  const auto salt_auth = bytes_view(m.require(3));
  const cbor_item_t* version = m.find(4);
  HmacSecretRequest request;
  request.protocol = version != nullptr ? &pin_protocol(version) : &pin_protocol_one();
  request.shared_secret = shared_secret(*request.protocol, platform_key);
  if (!request.protocol->verify(request.shared_secret.bytes(), salt_enc, salt_auth))
    throw CtapError(ctap::kPinAuthInvalid);
  auto salts = request.protocol->decrypt(request.shared_secret, salt_enc);
  if (!salts || (salts->size() != kSaltSize && salts->size() != 2 * kSaltSize))
    throw CtapError(ctap::kInvalidLength);
  request.salts = std::move(*salts);
  return request;
}

const PinProtocol& Authenticator::Impl::pin_protocol_one() const {
  const auto& offered = config.pin_protocols;
  if (std::find(offered.begin(), offered.end(), 1) == offered.end())
    throw CtapError(ctap::kInvalidParameter);
  return *find_pin_protocol(1);
}

std::vector<Bytes> Authenticator::Impl::matching_credentials(
    const PendingAssertions& request, const std::optional<std::vector<Bytes>>& allow_ids) {
  const bool uv = request.user_verified;
  if (allow_ids) {
    for (const Bytes& id : *allow_ids) {
      const StoredCredential* c = find_credential(id, request.rp_id_hash);
      if (c != nullptr && (c->cred_protect < 3 || uv)) return {c->id};
    }
    return {};
  }
  std::vector<const StoredCredential*> found;
  for (const auto& c : state.credentials) {
    if (c.resident && c.rp_id_hash == request.rp_id_hash && (c.cred_protect < 2 || uv))
      found.push_back(&c);
  }
  std::sort(found.begin(), found.end(), [](const StoredCredential* a, const StoredCredential* b) {
    return a->created > b->created;
  });
  std::vector<Bytes> ids;
  for (const StoredCredential* c : found) ids.push_back(c->id);
  return ids;
}

Bytes Authenticator::Impl::assertion_reply(const StoredCredential& credential,
                                           const PendingAssertions& request,
                                           std::optional<std::size_t> number_of_credentials) {
  std::optional<Bytes> extensions;
  if (request.hmac_secret) {
    if (auto output = hmac_secret_output(credential, *request.hmac_secret, request.user_verified)) {
      CborWriter ext;
      ext.map(1).text("hmac-secret").bytes(*output);
      extensions = ext.take();
    }
  }
  const std::uint8_t flags = static_cast<std::uint8_t>((request.user_present ? kFlagUp : 0) |
                                                       (request.user_verified ? kFlagUv : 0));
  const Bytes auth_data =
      encode_auth_data(request.rp_id_hash, flags, next_sign_count(), std::nullopt, extensions);
  const auto key = crypto::P256Key::from_private_der(credential.private_key.bytes());
  if (!key) throw CtapError(ctap::kOther);
  const Bytes signature = key->sign(crypto::concat(auth_data, request.client_data_hash));
  save();

  CborWriter w;
  w.map(3U + (credential.resident ? 1U : 0U) + (number_of_credentials ? 1U : 0U));
  w.uint(1).map(2).text("id").bytes(credential.id).text("type").text("public-key");
  w.uint(2).bytes(auth_data);
  w.uint(3).bytes(signature);
  if (credential.resident) write_user(w.uint(4), credential.user, request.user_verified);
  if (number_of_credentials) w.uint(5).uint(*number_of_credentials);
  return w.take();
}

}  // namespace touchpass::vtoken
