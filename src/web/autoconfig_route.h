// The mail clients' autoconfiguration (issue 14): Thunderbird's config-v1.1.xml
// (mail_autoconfig.h) at GET /.well-known/autoconfig/mail/config-v1.1.xml and
// /mail/config-v1.1.xml. Without mail settings (Config::mail) both paths are not found.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "web/mail_settings.h"

namespace touchpass::web {

class AutoconfigRoute {
 public:
  // The route for `mail` (nullopt: none), its document made once here. Error internal when
  // libxml2 fails (memory).
  static Result<AutoconfigRoute> create(const std::optional<MailSettings>& mail);

  // Whether `path` (without the query) is one of the two paths.
  static bool owns(std::string_view path);

  // The document for a request that gave `email_address` (Thunderbird's ?emailaddress=), or
  // none. Error not_found when there are no mail settings, or the address's domain (after its
  // last '@') is not the mail domain (compared without case). The view lives as *this.
  Result<std::string_view> document_for(std::optional<std::string_view> email_address) const;

 private:
  AutoconfigRoute() = default;
  std::string domain_;
  std::optional<std::string> document_;
};

}  // namespace touchpass::web
