#include "core/service_catalog.h"

#include <algorithm>
#include <cstddef>

#include "core/grant.h"

namespace touchpass {

namespace {

constexpr std::size_t kMaxShownChars = 64;
constexpr std::size_t kMaxSuggestionDistance = 2;

Error invalid(std::string message) {
  return Error{Code::invalid_argument, std::move(message)};
}

bool is_service_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// Printable ASCII without quotes or backslashes: safe to echo inside quotes on a terminal.
bool safe_to_show(std::string_view text) {
  return !text.empty() && text.size() <= kMaxShownChars &&
         std::all_of(text.begin(), text.end(),
                     [](char c) { return c > 0x20 && c < 0x7f && c != '"' && c != '\\'; });
}

// The Levenshtein distance of two short strings.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The service closest to `typed`, if one is close enough to be what the user meant.
const MailService* nearest(std::span<const MailService> services, std::string_view typed) {
  const MailService* best = nullptr;
  std::size_t best_distance = kMaxSuggestionDistance + 1;
  for (const MailService& s : services) {
    const std::size_t d = edit_distance(typed, s.name);
    if (d < best_distance) {
      best = &s;
      best_distance = d;
    }
  }
  return best;
}

}  // namespace

std::vector<MailService> default_mail_services() {
  return {
      {"imap", "IMAP: reading mail"},  {"pop3", "POP3: downloading mail"},
      {"smtp", "SMTP: sending mail"},  {"sieve", "ManageSieve: mail filters"},
      {"caldav", "CalDAV: calendars"}, {"carddav", "CardDAV: contacts"},
  };
}

std::string service_name_problem(std::string_view name) {
  if (name.empty() || name.size() > kMaxScopeChars ||
      !std::all_of(name.begin(), name.end(), is_service_char)) {
    return "a service name is 1 to " + std::to_string(kMaxScopeChars) +
           " lower-case letters, digits, '_' and '-'";
  }
  if (name == "all") return "\"all\" means every service and cannot name one";
  return "";
}

std::string lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string describe_services(std::span<const MailService> services) {
  std::string out;
  for (const MailService& s : services) {
    if (!out.empty()) out += ", ";
    out += s.name;
    if (!s.description.empty()) out += " (" + s.description + ")";
  }
  return out;
}

Result<std::vector<std::string>> resolve_scopes(std::span<const MailService> services,
                                                const std::vector<std::string>& requested,
                                                bool every_service) {
  const std::string choices = "The services are: " + describe_services(services) + ".";
  if (every_service) {
    if (!requested.empty()) {
      return invalid("Ask either for every service or for some services, not both.");
    }
    return std::vector<std::string>{};
  }
  if (requested.empty()) {
    return invalid("Say which services the password is for, or ask for every service. " + choices);
  }
  std::vector<std::string> scopes;
  for (std::size_t i = 0; i < requested.size(); ++i) {
    const std::string scope = lower_ascii(requested[i]);
    const bool known = std::any_of(services.begin(), services.end(),
                                   [&](const MailService& s) { return s.name == scope; });
    if (known) {
      scopes.push_back(scope);
      continue;
    }
    if (!safe_to_show(requested[i])) {
      return invalid("Service " + std::to_string(i + 1) + " is not a service of this server. " +
                     choices);
    }
    std::string message = "\"" + requested[i] + "\" is not a service of this server.";
    if (const MailService* close = nearest(services, scope)) {
      message += " Did you mean \"" + close->name + "\"?";
    }
    return invalid(message + " " + choices);
  }
  return canonical_scopes(std::move(scopes));
}

}  // namespace touchpass
