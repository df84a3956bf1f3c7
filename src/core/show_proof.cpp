#include "core/show_proof.h"

#include <array>
#include <optional>
#include <vector>

namespace touchpass {

namespace {

// The fields in the order they are written.
enum Field : std::size_t { kGrant, kNonce, kAuth, kClient, kSig, kFieldCount };
constexpr std::array<std::string_view, kFieldCount> kFieldNames = {"grant", "nonce", "auth",
                                                                   "client", "sig"};

Error malformed(const std::string& why) {
  return Error{Code::invalid_argument, "The show proof " + why + "."};
}

// Success when a field of `size` bytes is within [min, max]; else a sentence naming it.
Status check_size(std::string_view field, std::size_t size, std::size_t min, std::size_t max) {
  if (size >= min && size <= max) return {};
  const std::string bound =
      min == max ? std::to_string(min) : std::to_string(min) + " to " + std::to_string(max);
  return Status(Code::invalid_argument, "The show proof's " + std::string(field) + " is " +
                                            std::to_string(size) + " bytes long, not " + bound +
                                            ".");
}

Status check_sizes(const ShowProof& proof) {
  if (proof.grant_id.is_zero()) {
    return Status(Code::invalid_argument, "The show proof's grant is all zero (unset).");
  }
  const struct {
    std::string_view field;
    std::size_t size, min, max;
  } fields[] = {
      {"nonce", proof.nonce.size(), kShowProofMinNonceBytes, kShowProofMaxNonceBytes},
      {"auth", proof.authenticator_data.size(), kShowProofMinAuthDataBytes,
       kShowProofMaxAuthDataBytes},
      {"client", proof.client_data_json.size(), 0, kShowProofMaxClientDataBytes},
      {"sig", proof.signature.size(), 1, kShowProofMaxSignatureBytes},
  };
  for (const auto& f : fields) {
    if (Status s = check_size(f.field, f.size, f.min, f.max); !s.ok()) return s;
  }
  return {};
}

// Lower-case hex only: from_hex also takes upper case, which would give a second text form.
std::optional<Bytes> lower_hex(std::string_view text) {
  for (char c : text) {
    if (c >= 'A' && c <= 'F') return std::nullopt;
  }
  return from_hex(text);
}

}  // namespace

bool is_show_proof(std::string_view detail) {
  return detail.size() > kShowProofTag.size() && detail.starts_with(kShowProofTag) &&
         detail[kShowProofTag.size()] == ' ';
}

Result<std::string> encode_show_proof(const ShowProof& proof) {
  if (Status s = check_sizes(proof); !s.ok()) return s.error();
  std::string out(kShowProofTag);
  out += ' ';
  out += kShowProofVersion;
  out += " grant=" + to_hex(proof.grant_id.bytes());
  out += " nonce=" + to_hex(proof.nonce);
  out += " auth=" + to_hex(proof.authenticator_data);
  out += " client=" + to_base64url(bytes_of(proof.client_data_json));
  out += " sig=" + to_hex(proof.signature);
  return out;
}

Result<ShowProof> parse_show_proof(std::string_view detail) {
  if (detail.size() > kMaxShowProofBytes) {
    return malformed("is longer than " + std::to_string(kMaxShowProofBytes) + " bytes");
  }
  if (!is_show_proof(detail)) return malformed("does not start with \"show-proof \"");
  // The words: the tag, the version, then the fields.
  std::vector<std::string_view> words;
  for (std::size_t at = 0;;) {
    const std::size_t end = detail.find(' ', at);
    words.push_back(detail.substr(at, end == std::string_view::npos ? end : end - at));
    if (words.back().empty()) {
      return malformed("has an empty field (two spaces, or one at its end)");
    }
    if (end == std::string_view::npos) break;
    at = end + 1;
  }
  if (words[1] != kShowProofVersion) {
    return malformed("is of a version this touchpassd does not read (expected " +
                     std::string(kShowProofVersion) + ")");
  }
  std::array<std::optional<std::string_view>, kFieldCount> values;
  std::size_t next = 0;  // the fields before this one have been read (they come in order)
  for (std::size_t w = 2; w < words.size(); ++w) {
    const std::size_t eq = words[w].find('=');
    if (eq == std::string_view::npos) return malformed("has a field without '='");
    const std::string_view name = words[w].substr(0, eq);
    std::size_t index = 0;
    while (index < kFieldCount && kFieldNames[index] != name) ++index;
    if (index == kFieldCount) return malformed("has an unknown field");
    if (values[index]) return malformed("has its " + std::string(name) + " field twice");
    if (index < next) return malformed("has its " + std::string(name) + " field out of order");
    values[index] = words[w].substr(eq + 1);
    next = index + 1;
  }
  for (std::size_t i = 0; i < kFieldCount; ++i) {
    if (!values[i]) return malformed("lacks its " + std::string(kFieldNames[i]) + " field");
  }

  ShowProof proof;
  const auto hex_field = [&](Field f, Bytes& out) -> Status {
    auto bytes = lower_hex(*values[f]);
    if (!bytes) {
      return Status(Code::invalid_argument,
                    "The show proof's " + std::string(kFieldNames[f]) + " is not lower-case hex.");
    }
    out = std::move(*bytes);
    return {};
  };
  Bytes grant;
  for (const auto& [field, out] : {std::pair<Field, Bytes*>{kGrant, &grant},
                                   {kNonce, &proof.nonce},
                                   {kAuth, &proof.authenticator_data},
                                   {kSig, &proof.signature}}) {
    if (Status s = hex_field(field, *out); !s.ok()) return s.error();
  }
  if (Status s = check_size("grant", grant.size(), GrantId::kSize, GrantId::kSize); !s.ok()) {
    return s.error();
  }
  proof.grant_id = *GrantId::from_bytes(grant);
  auto client = from_base64url(*values[kClient]);
  if (!client) {
    return Error{Code::invalid_argument, "The show proof's client is not strict base64url."};
  }
  proof.client_data_json.assign(client->begin(), client->end());
  if (Status s = check_sizes(proof); !s.ok()) return s.error();
  return proof;
}

}  // namespace touchpass
