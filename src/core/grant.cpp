#include "core/grant.h"

#include <algorithm>
#include <utility>

#include "core/cbor_writer.h"
#include "core/utf8.h"

namespace touchpass {

namespace {

// Map keys of enc(G), DESIGN.md §5.1.
enum GrantKey : std::uint64_t {
  kKeyVersion = 1,
  kKeyGrantId = 2,
  kKeyUser = 3,
  kKeyName = 4,
  kKeyScopes = 5,
  kKeyCreated = 6,
  kKeyExpires = 7,
  kKeyKind = 8,
  kKeyCredential = 9,
  kKeyRpId = 10,
};
constexpr std::size_t kGrantMapEntries = 9;  // plus key 10 when the grant has an rp id

Status invalid(std::string message) {
  return Status(Code::invalid_argument, std::move(message));
}

// C0, DEL, C1, the line and paragraph separators, and the bidirectional embedding, override
// and isolate controls (which can make a listing show something other than what is stored).
bool is_control(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
         (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

// Unicode White_Space.
bool is_whitespace(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
         cp == 0x205f || cp == 0x3000;
}

bool is_scope_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

Status validate_user(std::string_view user) {
  if (user.empty()) return invalid("The grant has no user name.");
  if (user.size() > kMaxUserBytes) {
    return invalid("The user name is longer than " + std::to_string(kMaxUserBytes) + " bytes.");
  }
  const auto decoded = decode_utf8(user);
  if (!decoded) return invalid("The user name is not valid UTF-8.");
  for (char32_t cp : *decoded) {
    if (is_control(cp) || is_whitespace(cp) || cp == U':' || cp == U'/') {
      return invalid("The user name contains a space, a control character, ':' or '/'.");
    }
  }
  if (user.front() == '-') return invalid("The user name must not start with '-'.");
  return Status::success();
}

Status validate_credential(TokenKind kind, std::span<const std::uint8_t> credential) {
  switch (kind) {
    case TokenKind::fido2:
      if (credential.empty() || credential.size() > kMaxFido2CredentialIdBytes) {
        return invalid("The FIDO2 credential id must be 1 to " +
                       std::to_string(kMaxFido2CredentialIdBytes) + " bytes long.");
      }
      return Status::success();
    case TokenKind::yubikey:
      return parse_yubikey_credential(credential).status();
  }
  return invalid("The token kind is unknown.");
}

// A relying party id as WebAuthn uses one: a registrable domain name, lower case.
Status validate_rp_id(std::string_view rp_id) {
  const Status bad =
      invalid("The relying party id must be a lower-case DNS name such as \"mail.example.org\".");
  if (rp_id.empty() || rp_id.size() > kMaxRpIdBytes) return bad;
  std::size_t start = 0;
  while (start <= rp_id.size()) {
    const std::size_t dot = std::min(rp_id.find('.', start), rp_id.size());
    const std::string_view label = rp_id.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return bad;
    for (char c : label) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return bad;
    }
    start = dot + 1;
  }
  return Status::success();
}

Status validate_rp_id_for(const Grant& grant) {
  if (grant.version == kGrantVersionV2 && grant.kind == TokenKind::fido2) {
    return validate_rp_id(grant.rp_id);
  }
  if (!grant.rp_id.empty()) {
    return invalid("Only version 2 FIDO2 grants carry a relying party id.");
  }
  return Status::success();
}

}  // namespace

Result<GrantId> GrantId::from_bytes(std::span<const std::uint8_t> bytes) {
  if (bytes.size() != kSize) {
    return Result<GrantId>(Code::invalid_argument, "A grant id is " + std::to_string(kSize) +
                                                       " bytes, not " +
                                                       std::to_string(bytes.size()) + ".");
  }
  std::array<std::uint8_t, kSize> id{};
  std::copy(bytes.begin(), bytes.end(), id.begin());
  return GrantId(id);
}

bool GrantId::is_zero() const {
  return std::all_of(bytes_.begin(), bytes_.end(), [](std::uint8_t b) { return b == 0; });
}

std::string_view token_kind_name(TokenKind kind) {
  switch (kind) {
    case TokenKind::fido2:
      return "fido2";
    case TokenKind::yubikey:
      return "yubikey";
  }
  return "unknown";
}

std::optional<TokenKind> token_kind_from_name(std::string_view name) {
  if (name == "fido2") return TokenKind::fido2;
  if (name == "yubikey") return TokenKind::yubikey;
  return std::nullopt;
}

std::vector<std::string> canonical_scopes(std::vector<std::string> scopes) {
  std::sort(scopes.begin(), scopes.end());
  scopes.erase(std::unique(scopes.begin(), scopes.end()), scopes.end());
  return scopes;
}

Bytes encode_grant(const Grant& grant) {
  const std::vector<std::string> scopes = canonical_scopes(grant.scopes);
  CborWriter w;
  const bool has_rp_id = !grant.rp_id.empty();
  w.map(kGrantMapEntries + (has_rp_id ? 1 : 0));
  w.uint(kKeyVersion).uint(grant.version);
  w.uint(kKeyGrantId).bytes(grant.grant_id.bytes());
  w.uint(kKeyUser).text(grant.user);
  w.uint(kKeyName).text(grant.name);
  w.uint(kKeyScopes).array(scopes.size());
  for (const std::string& scope : scopes) w.text(scope);
  w.uint(kKeyCreated).uint(grant.created);
  w.uint(kKeyExpires).uint(grant.expires);
  w.uint(kKeyKind).text(token_kind_name(grant.kind));
  w.uint(kKeyCredential).bytes(grant.credential);
  if (has_rp_id) w.uint(kKeyRpId).text(grant.rp_id);
  return w.take();
}

Status validate_grant_name(std::string_view name) {
  const auto decoded = decode_utf8(name);
  if (!decoded) return invalid("The app password name is not valid UTF-8.");
  if (decoded->empty() || decoded->size() > kMaxNameChars) {
    return invalid("The app password name must be 1 to " + std::to_string(kMaxNameChars) +
                   " characters long.");
  }
  for (char32_t cp : *decoded) {
    if (is_control(cp)) return invalid("The app password name contains a control character.");
  }
  if (is_whitespace(decoded->front()) || is_whitespace(decoded->back())) {
    return invalid("The app password name must not begin or end with a space.");
  }
  return Status::success();
}

Status validate_grant_scopes(const std::vector<std::string>& scopes) {
  for (std::size_t i = 0; i < scopes.size(); ++i) {
    const std::string& scope = scopes[i];
    if (scope.empty() || scope.size() > kMaxScopeChars ||
        !std::all_of(scope.begin(), scope.end(), is_scope_char)) {
      // The scope itself is not echoed: it may hold control characters.
      return invalid("Scope " + std::to_string(i + 1) + " is not valid: use 1 to " +
                     std::to_string(kMaxScopeChars) +
                     " characters of lower-case letters, digits, '_' and '-'.");
    }
  }
  std::vector<std::string> sorted = scopes;
  std::sort(sorted.begin(), sorted.end());
  const auto repeat = std::adjacent_find(sorted.begin(), sorted.end());
  if (repeat != sorted.end()) return invalid("Scope \"" + *repeat + "\" is given more than once.");
  return Status::success();
}

Status validate_grant(const Grant& grant) {
  if (grant.version != kGrantVersionV1 && grant.version != kGrantVersionV2) {
    return invalid("Grant format version " + std::to_string(grant.version) +
                   " is not supported; this build knows versions 1 and 2.");
  }
  if (grant.grant_id.is_zero()) return invalid("The grant id is not set (all zero).");
  if (Status s = validate_user(grant.user); !s.ok()) return s;
  if (Status s = validate_grant_name(grant.name); !s.ok()) return s;
  if (Status s = validate_grant_scopes(grant.scopes); !s.ok()) return s;
  if (grant.expires != 0 && grant.expires <= grant.created) {
    return invalid("The expiry time must be after the creation time (or 0 for never).");
  }
  if (Status s = validate_credential(grant.kind, grant.credential); !s.ok()) return s;
  return validate_rp_id_for(grant);
}

Bytes encode_yubikey_credential(const YubiKeyCredential& credential) {
  const std::uint32_t s = credential.serial;
  return Bytes{static_cast<std::uint8_t>(s >> 24), static_cast<std::uint8_t>(s >> 16),
               static_cast<std::uint8_t>(s >> 8), static_cast<std::uint8_t>(s),
               static_cast<std::uint8_t>(credential.slot)};
}

Result<YubiKeyCredential> parse_yubikey_credential(std::span<const std::uint8_t> bytes) {
  if (bytes.size() != kYubiKeyCredentialBytes) {
    return Result<YubiKeyCredential>(
        Code::invalid_argument,
        "A YubiKey credential is 5 bytes (4-byte serial, then the slot), not " +
            std::to_string(bytes.size()) + ".");
  }
  if (bytes[4] != 1 && bytes[4] != 2) {
    return Result<YubiKeyCredential>(
        Code::invalid_argument,
        "The YubiKey slot must be 1 or 2, not " + std::to_string(bytes[4]) + ".");
  }
  YubiKeyCredential credential;
  credential.serial = std::uint32_t{bytes[0]} << 24 | std::uint32_t{bytes[1]} << 16 |
                      std::uint32_t{bytes[2]} << 8 | std::uint32_t{bytes[3]};
  credential.slot = static_cast<YubiKeySlot>(bytes[4]);
  return credential;
}

}  // namespace touchpass
