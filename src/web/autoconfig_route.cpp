#include "web/autoconfig_route.h"

#include <algorithm>

#include "web/mail_autoconfig.h"

namespace touchpass::web {

namespace {

bool same_without_case(std::string_view a, std::string_view b) {
  const auto lower = [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  };
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [&](char x, char y) { return lower(x) == lower(y); });
}

}  // namespace

Result<AutoconfigRoute> AutoconfigRoute::create(const std::optional<MailSettings>& mail) {
  AutoconfigRoute route;
  if (!mail) return route;
  auto document = mail_autoconfig(*mail);
  if (!document.ok()) return document.error();
  route.domain_ = mail->domain;
  route.document_ = std::move(*document);
  return route;
}

bool AutoconfigRoute::owns(std::string_view path) {
  return path == "/.well-known/autoconfig/mail/config-v1.1.xml" || path == "/mail/config-v1.1.xml";
}

Result<std::string_view> AutoconfigRoute::document_for(
    std::optional<std::string_view> email_address) const {
  const Error not_found{Code::not_found, "There is no mail configuration for this address."};
  if (!document_) return not_found;
  if (email_address) {
    const std::size_t at = email_address->rfind('@');
    if (at == std::string_view::npos || at == 0 ||
        !same_without_case(email_address->substr(at + 1), domain_)) {
      return not_found;
    }
  }
  return std::string_view(*document_);
}

}  // namespace touchpass::web
