// What the derivation vector tests share: reading hex fields, a grant from a vector's "grant"
// object, and the token's side of S computed independently with OpenSSL's one-shot EVP_Q_mac.
#pragma once

#include <gtest/gtest.h>

#include <openssl/evp.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/grant.h"

namespace touchpass::testing {

// The bytes of the hexadecimal string `object[key]`; a test failure (and no bytes) if it is not
// hexadecimal.
inline Bytes hex_field(const nlohmann::json& object, const char* key) {
  const std::optional<Bytes> b = from_hex(object.at(key).get<std::string>());
  EXPECT_TRUE(b.has_value()) << key << " is not hexadecimal";
  return b.value_or(Bytes{});
}

// HMAC-`digest`(key, message) by OpenSSL's one-shot interface: the token's computation of S.
inline Bytes vector_hmac(const char* digest, const Bytes& key,
                         std::span<const std::uint8_t> message) {
  Bytes out(64);
  std::size_t written = 0;
  EXPECT_NE(EVP_Q_mac(nullptr, "HMAC", nullptr, digest, nullptr, key.data(), key.size(),
                      message.data(), message.size(), out.data(), out.size(), &written),
            nullptr);
  out.resize(written);
  return out;
}

// The Grant a vector's "grant" object describes (rp_id only where the vector has one).
inline Grant grant_from_vector(const nlohmann::json& j) {
  Grant g;
  g.version = j.at("version").get<std::uint64_t>();
  g.grant_id = *GrantId::from_bytes(hex_field(j, "grant_id"));
  g.user = j.at("user").get<std::string>();
  g.name = j.at("name").get<std::string>();
  g.scopes = j.at("scopes").get<std::vector<std::string>>();
  g.created = j.at("created").get<std::uint64_t>();
  g.expires = j.at("expires").get<std::uint64_t>();
  const std::optional<TokenKind> kind = token_kind_from_name(j.at("kind").get<std::string>());
  EXPECT_TRUE(kind.has_value());
  g.kind = kind.value_or(TokenKind::fido2);
  g.credential = hex_field(j, "credential");
  if (j.contains("rp_id")) g.rp_id = j.at("rp_id").get<std::string>();
  return g;
}

}  // namespace touchpass::testing
