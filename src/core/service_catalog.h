// The services of a mail server that app passwords may be scoped to (DESIGN.md §5.4: a grant
// "must allow the service"), each with a sentence a user understands, and the resolution of what
// a user typed into a grant's scopes. Scopes come from this list only, so that a mistyped scope
// ("imapp") is refused instead of giving a password that never works; "every service" is never
// a default: it is asked for explicitly. Pure.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace touchpass {

// One service: its scope name (what PAM's service name is matched against) and a description.
struct MailService {
  std::string name;         // 1 to kMaxScopeChars of [a-z0-9_-]
  std::string description;  // e.g. "IMAP: reading mail"
};

// The services of a server that configures none: imap, pop3, smtp, sieve, caldav, carddav.
std::vector<MailService> default_mail_services();

// Checks a service name a configuration gives: lower-case letters, digits, '_' and '-', 1 to
// kMaxScopeChars long, and not "all" (the CLI's word for every service). Returns the reason it
// is not valid, or an empty string.
std::string service_name_problem(std::string_view name);

// `text` with ASCII letters in lower case (service names compare case-insensitively).
std::string lower_ascii(std::string_view text);

// The grant scopes for what a user asked: `requested` (any case, any order) resolved against
// `services`, lower-cased, sorted, without repeats; or, when `every_service`, the empty list that
// means every service. Errors invalid_argument, each naming the services to choose from:
// nothing asked; both a list and every service; a name that is not one of `services` (named,
// with the nearest service when one is close, unless it holds characters that are not safe to
// show).
Result<std::vector<std::string>> resolve_scopes(std::span<const MailService> services,
                                                const std::vector<std::string>& requested,
                                                bool every_service);

// "imap (IMAP: reading mail), smtp (…)": the services for an error message.
std::string describe_services(std::span<const MailService> services);

}  // namespace touchpass
