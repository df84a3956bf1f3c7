#include "devices/virtual/auth_data.h"

#include <stdexcept>

#include "core/cbor_writer.h"

namespace touchpass::vtoken {

Bytes encode_auth_data(std::span<const std::uint8_t> rp_id_hash, std::uint8_t flags,
                       std::uint32_t sign_count, const std::optional<AttestedCredential>& attested,
                       const std::optional<Bytes>& extensions) {
  if (attested) flags |= kFlagAt;
  if (extensions) flags |= kFlagEd;
  Bytes out(rp_id_hash.begin(), rp_id_hash.end());
  out.push_back(flags);
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<std::uint8_t>(sign_count >> shift));
  if (attested) {
    const std::size_t id_size = attested->credential_id.size();
    if (id_size > 0xffff) throw std::length_error("credential id too long");
    out.insert(out.end(), attested->aaguid.begin(), attested->aaguid.end());
    out.push_back(static_cast<std::uint8_t>(id_size >> 8));
    out.push_back(static_cast<std::uint8_t>(id_size));
    out.insert(out.end(), attested->credential_id.begin(), attested->credential_id.end());
    out.insert(out.end(), attested->cose_key.begin(), attested->cose_key.end());
  }
  if (extensions) out.insert(out.end(), extensions->begin(), extensions->end());
  return out;
}

Bytes encode_cose_key(const crypto::P256Key& key, std::int64_t alg) {
  CborWriter w;
  w.map(5);
  w.uint(1).uint(2);
  w.uint(3).nint(alg);
  w.nint(-1).uint(1);
  w.nint(-2).bytes(key.x());
  w.nint(-3).bytes(key.y());
  return w.take();
}

}  // namespace touchpass::vtoken
