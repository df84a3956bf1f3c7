#include "store/audit_chain.h"

#include <openssl/evp.h>

#include <memory>
#include <stdexcept>
#include <string_view>

#include "core/cbor_writer.h"

namespace touchpass::store {

Bytes encode_audit_entry(std::int64_t seq, const AuditEvent& event) {
  CborWriter w;
  w.map(9);
  w.uint(1).nint(seq);
  w.uint(2).nint(event.time);
  w.uint(3).nint(event.actor_uid);
  w.uint(4).text(event.actor);
  w.uint(5).text(event.action);
  w.uint(6).text(event.user);
  w.uint(7).text(event.object);
  w.uint(8).text(event.result);
  w.uint(9).text(event.detail);
  return w.take();
}

Bytes audit_entry_hash(const Bytes& prev_hash, std::int64_t seq, const AuditEvent& event) {
  static constexpr std::string_view kDomain = "touchpass/v1/audit";
  const Bytes encoded = encode_audit_entry(seq, event);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  Bytes out(kAuditHashSize);
  unsigned int len = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), kDomain.data(), kDomain.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), prev_hash.data(), prev_hash.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), encoded.data(), encoded.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1 || len != kAuditHashSize) {
    throw std::runtime_error("SHA-256 failed");  // only on OpenSSL misconfiguration
  }
  return out;
}

}  // namespace touchpass::store
