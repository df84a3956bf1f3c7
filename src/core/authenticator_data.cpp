#include "core/authenticator_data.h"

#include <cbor.h>

#include <algorithm>
#include <memory>
#include <string>

#include "core/cbor_extent.h"
#include "core/crypto.h"

namespace touchpass {

namespace {

constexpr std::size_t kFixedBytes = 32 + 1 + 4;
constexpr std::size_t kAttestedFixedBytes = 16 + 2;

Error malformed(std::string sentence) {
  return Error{Code::malformed_reply, std::move(sentence)};
}

struct CborFree {
  void operator()(cbor_item_t* item) const {
    if (item != nullptr) cbor_decref(&item);
  }
};
using CborItem = std::unique_ptr<cbor_item_t, CborFree>;

// One CBOR item from the front of `bytes`, with the number of bytes it took; nullopt when
// `bytes` does not start with a well-formed item.
struct LoadedItem {
  CborItem item;
  std::size_t size = 0;
};
// The extent is measured first (cbor_extent.h): libcbor allocates what a header announces.
std::optional<LoadedItem> load_item(std::span<const std::uint8_t> bytes) {
  const std::optional<std::size_t> extent = cbor_item_extent(bytes);
  if (!extent) return std::nullopt;
  cbor_load_result result{};
  CborItem item(cbor_load(bytes.data(), *extent, &result));
  if (!item || result.error.code != CBOR_ERR_NONE || result.read != *extent) return std::nullopt;
  return LoadedItem{std::move(item), result.read};
}

// The integer value of `item` (unsigned or negative), or nullopt for any other item or one out
// of range.
std::optional<std::int64_t> integer_of(const cbor_item_t* item) {
  if (!cbor_isa_uint(item) && !cbor_isa_negint(item)) return std::nullopt;
  const std::uint64_t v = cbor_get_int(item);
  if (v > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
  const auto s = static_cast<std::int64_t>(v);
  return cbor_isa_uint(item) ? s : -1 - s;
}

}  // namespace

bool extension_is_true(const AuthenticatorData& data, std::string_view name) {
  if (data.extensions.empty()) return false;
  auto loaded = load_item(data.extensions);
  if (!loaded || !cbor_isa_map(loaded->item.get())) return false;
  const std::size_t count = cbor_map_size(loaded->item.get());
  const cbor_pair* pairs = cbor_map_handle(loaded->item.get());
  for (std::size_t i = 0; i < count; ++i) {
    const cbor_item_t* key = pairs[i].key;
    if (!cbor_isa_string(key) || !cbor_string_is_definite(key)) continue;
    const std::string_view text(reinterpret_cast<const char*>(cbor_string_handle(key)),
                                cbor_string_length(key));
    if (text == name) return cbor_is_bool(pairs[i].value) && cbor_get_bool(pairs[i].value);
  }
  return false;
}

Result<AuthenticatorData> parse_authenticator_data(std::span<const std::uint8_t> bytes) {
  if (bytes.size() > kMaxAuthenticatorDataBytes) {
    return malformed("The authenticator data is larger than " +
                     std::to_string(kMaxAuthenticatorDataBytes) + " bytes.");
  }
  if (bytes.size() < kFixedBytes) return malformed("The authenticator data is cut short.");
  AuthenticatorData data;
  std::copy_n(bytes.begin(), 32, data.rp_id_hash.begin());
  data.flags = bytes[32];
  data.sign_count = std::uint32_t{bytes[33]} << 24 | std::uint32_t{bytes[34]} << 16 |
                    std::uint32_t{bytes[35]} << 8 | std::uint32_t{bytes[36]};
  std::span<const std::uint8_t> rest = bytes.subspan(kFixedBytes);
  if ((data.flags & kAuthFlagAt) != 0) {
    if (rest.size() < kAttestedFixedBytes) {
      return malformed("The authenticator data's attested credential is cut short.");
    }
    AttestedCredentialData attested;
    std::copy_n(rest.begin(), 16, attested.aaguid.begin());
    const std::size_t id_size = std::size_t{rest[16]} << 8 | rest[17];
    rest = rest.subspan(kAttestedFixedBytes);
    if (id_size == 0 || rest.size() < id_size) {
      return malformed("The authenticator data's credential id is empty or cut short.");
    }
    attested.credential_id.assign(rest.begin(), rest.begin() + static_cast<long>(id_size));
    rest = rest.subspan(id_size);
    const std::optional<LoadedItem> key = load_item(rest);
    if (!key || !cbor_isa_map(key->item.get())) {
      return malformed("The authenticator data's credential public key is not a CBOR map.");
    }
    attested.cose_key.assign(rest.begin(), rest.begin() + static_cast<long>(key->size));
    rest = rest.subspan(key->size);
    data.attested = std::move(attested);
  }
  if ((data.flags & kAuthFlagEd) != 0) {
    const std::optional<LoadedItem> extensions = load_item(rest);
    if (!extensions || !cbor_isa_map(extensions->item.get())) {
      return malformed("The authenticator data's extension outputs are not a CBOR map.");
    }
    data.extensions.assign(rest.begin(), rest.begin() + static_cast<long>(extensions->size));
    rest = rest.subspan(extensions->size);
  }
  if (!rest.empty()) {
    return malformed("The authenticator data has " + std::to_string(rest.size()) +
                     " bytes more than its flags announce.");
  }
  return data;
}

Bytes Es256PublicKey::raw() const {
  Bytes out(x.begin(), x.end());
  out.insert(out.end(), y.begin(), y.end());
  return out;
}

std::optional<Es256PublicKey> Es256PublicKey::from_raw(std::span<const std::uint8_t> stored) {
  if (stored.size() == 65 && stored[0] == 0x04) stored = stored.subspan(1);
  if (stored.size() != 64) return std::nullopt;
  Es256PublicKey key;
  std::copy_n(stored.begin(), 32, key.x.begin());
  std::copy_n(stored.begin() + 32, 32, key.y.begin());
  return key;
}

Result<Es256PublicKey> parse_cose_public_key(std::span<const std::uint8_t> cose_key) {
  const std::optional<LoadedItem> loaded = load_item(cose_key);
  if (!loaded || loaded->size != cose_key.size() || !cbor_isa_map(loaded->item.get()) ||
      !cbor_map_is_definite(loaded->item.get())) {
    return malformed("The credential public key is not one CBOR map.");
  }
  std::optional<std::int64_t> kty, alg, crv;
  const cbor_item_t* x = nullptr;
  const cbor_item_t* y = nullptr;
  const std::size_t n = cbor_map_size(loaded->item.get());
  const cbor_pair* pairs = cbor_map_handle(loaded->item.get());
  for (std::size_t i = 0; i < n; ++i) {
    const std::optional<std::int64_t> label = integer_of(pairs[i].key);
    if (!label) continue;  // text labels are allowed and carry nothing we use
    switch (*label) {
      case 1:
        kty = integer_of(pairs[i].value);
        break;
      case 3:
        alg = integer_of(pairs[i].value);
        break;
      case -1:
        crv = integer_of(pairs[i].value);
        break;
      case -2:
        x = pairs[i].value;
        break;
      case -3:
        y = pairs[i].value;
        break;
      default:
        break;
    }
  }
  if (!kty || !alg) return malformed("The credential public key lacks its type or algorithm.");
  if (*kty != 2 || *alg != kCoseAlgEs256) {
    return Error{Code::capability_missing, "The credential's key is of COSE type " +
                                               std::to_string(*kty) + " and algorithm " +
                                               std::to_string(*alg) +
                                               "; touchpass accepts ES256 (P-256) keys."};
  }
  const auto coordinate = [](const cbor_item_t* c) {
    return c != nullptr && cbor_isa_bytestring(c) && cbor_bytestring_is_definite(c) &&
           cbor_bytestring_length(c) == 32;
  };
  if (crv != 1 || !coordinate(x) || !coordinate(y)) {
    return malformed("The credential's ES256 key is not a P-256 point of two 32-byte coordinates.");
  }
  Es256PublicKey key;
  std::copy_n(cbor_bytestring_handle(x), 32, key.x.begin());
  std::copy_n(cbor_bytestring_handle(y), 32, key.y.begin());
  return key;
}

Result<std::array<std::uint8_t, 32>> rp_id_hash(std::string_view rp_id) {
  std::array<std::uint8_t, 32> hash{};
  if (Status s = crypto::sha256({crypto::text_bytes(rp_id)}, hash); !s.ok()) return s;
  return hash;
}

}  // namespace touchpass
