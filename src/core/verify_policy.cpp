#include "core/verify_policy.h"

#include <algorithm>

#include "core/service_catalog.h"

namespace touchpass {

VerifyDecision decide(const GrantFacts& grant, std::string_view user, std::string_view service,
                      std::int64_t now) {
  // A row whose MAC fails says nothing trustworthy: not even whose it is.
  if (!grant.intact) return VerifyDecision::tampered;
  if (grant.user != user) return VerifyDecision::other_user;
  if (grant.revoked) return VerifyDecision::revoked;
  if (grant.token_revoked) return VerifyDecision::token_revoked;
  if (grant.expires != 0 && grant.expires <= now) return VerifyDecision::expired;
  // Scopes are stored in lower case; a service may name itself in any case ("IMAP").
  if (grant.scopes != nullptr && !grant.scopes->empty() &&
      std::find(grant.scopes->begin(), grant.scopes->end(), lower_ascii(service)) ==
          grant.scopes->end()) {
    return VerifyDecision::wrong_service;
  }
  return VerifyDecision::accepted;
}

std::string refusal_reason(VerifyDecision decision, std::string_view grant_name,
                           std::string_view service) {
  const std::string quoted = "\"" + std::string(grant_name) + "\"";
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
      return "app password " + quoted + " is not for " + std::string(service);
    case VerifyDecision::token_revoked:
      return "app password " + quoted + " of a revoked security key";
    case VerifyDecision::tampered:
      return "app password " + quoted +
             " whose record was changed outside touchpassd (its MAC does not match)";
  }
  return "refused";
}

}  // namespace touchpass
