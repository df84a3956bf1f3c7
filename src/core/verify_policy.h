// The verification policy of DESIGN.md §5.4, without I/O: once a typed password's verifier has
// been found in the store, may it log `user` in to `service` at `now`? All four conditions are
// checked explicitly on every verify: the grant is the user's, it is not revoked and not
// expired, it allows the service, and its credential (token) is not revoked. A grant restricted
// to networks (core/source_networks.h) must also be used from inside one of them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace touchpass {

// What the policy needs to know about the grant a verifier belongs to.
struct GrantFacts {
  std::string_view user;
  std::string_view name;
  const std::vector<std::string>* scopes = nullptr;  // empty: every service
  // Canonical networks the grant may be used from (core/source_networks.h); empty: anywhere.
  const std::vector<std::string>* networks = nullptr;
  bool revoked = false;
  std::int64_t expires = 0;  // Unix s; 0 = never
  bool token_revoked = false;
  bool intact = true;  // the grant's row carries a valid MAC (store/integrity.h)
};

enum class VerifyDecision {
  accepted,
  not_a_password,  // the typed text cannot be an app password
  unknown,         // no grant has this verifier
  other_user,      // the grant belongs to someone else
  revoked,
  expired,
  wrong_service,
  wrong_source,  // restricted to networks, and the client address is outside them (or missing)
  token_revoked,
  tampered,  // the grant's row was changed outside touchpassd
};

// What a verify request says about itself.
struct VerifyContext {
  std::string_view user;
  std::string_view service;
  std::string_view remote;  // the client address the service reported; empty: none
};

// The decision for a found grant (never not_a_password or unknown). The request's service
// matches the grant's scopes case-insensitively (scopes are stored in lower case).
VerifyDecision decide(const GrantFacts& grant, const VerifyContext& request, std::int64_t now);

// Why a verification was refused, for the audit log (never shown to the caller):
// e.g. `revoked app password "mail"`, or for wrong_source `app password "mail" is not for
// 203.0.113.9 (restricted to 192.0.2.0/24)`. `grant` is null when no grant was found.
std::string refusal_reason(VerifyDecision decision, const GrantFacts* grant,
                           const VerifyContext& request);

}  // namespace touchpass
