#include "core/verify_policy.h"

#include <algorithm>

#include "core/service_catalog.h"
#include "core/source_networks.h"

namespace touchpass {

namespace {

// `text` with its non-printable bytes replaced and cut at 64 bytes: a client address as
// the service reported it, for the audit log.
std::string printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 64)) {
    const auto u = static_cast<unsigned char>(c);
    out += u >= 0x20 && u < 0x7f ? c : '?';
  }
  return out;
}

}  // namespace

VerifyDecision decide(const GrantFacts& grant, const VerifyContext& request, std::int64_t now) {
  // A row whose MAC fails says nothing trustworthy: not even whose it is.
  if (!grant.intact) return VerifyDecision::tampered;
  if (grant.user != request.user) return VerifyDecision::other_user;
  if (grant.revoked) return VerifyDecision::revoked;
  if (grant.token_revoked) return VerifyDecision::token_revoked;
  if (grant.expires != 0 && grant.expires <= now) return VerifyDecision::expired;
  // Scopes are stored in lower case; a service may name itself in any case ("IMAP").
  if (grant.scopes != nullptr && !grant.scopes->empty() &&
      std::find(grant.scopes->begin(), grant.scopes->end(), lower_ascii(request.service)) ==
          grant.scopes->end()) {
    return VerifyDecision::wrong_service;
  }
  if (grant.networks != nullptr && !source_allowed(*grant.networks, request.remote)) {
    return VerifyDecision::wrong_source;
  }
  return VerifyDecision::accepted;
}

std::string refusal_reason(VerifyDecision decision, const GrantFacts* grant,
                           const VerifyContext& request) {
  const std::string quoted = "\"" + std::string(grant != nullptr ? grant->name : "") + "\"";
  switch (decision) {
    case VerifyDecision::accepted:
      return "accepted";
    case VerifyDecision::not_a_password:
      return "not an app password";
    case VerifyDecision::unknown:
      return "unknown password";
    case VerifyDecision::other_user:
      return "a password that is not this user's";
    case VerifyDecision::revoked:
      return "revoked app password " + quoted;
    case VerifyDecision::expired:
      return "expired app password " + quoted;
    case VerifyDecision::wrong_service:
      return "app password " + quoted + " is not for " + std::string(request.service);
    case VerifyDecision::wrong_source: {
      // The first few networks: a reason is counted in aggregated audit entries, so it stays
      // short.
      constexpr std::size_t kNamed = 3;
      std::string networks;
      if (grant != nullptr && grant->networks != nullptr) {
        const auto& all = *grant->networks;
        for (std::size_t i = 0; i < all.size() && i < kNamed; ++i) {
          if (!networks.empty()) networks += ",";
          networks += all[i];
        }
        if (all.size() > kNamed)
          networks += " and " + std::to_string(all.size() - kNamed) + " more";
      }
      const std::string from = request.remote.empty() ? "a client without an address"
                                                      : "address " + printable(request.remote);
      return "app password " + quoted + " is not for " + from + " (restricted to " + networks + ")";
    }
    case VerifyDecision::token_revoked:
      return "app password " + quoted + " of a revoked security key";
    case VerifyDecision::tampered:
      return "app password " + quoted +
             " whose record was changed outside touchpassd (its MAC does not match)";
  }
  return "refused";
}

}  // namespace touchpass
