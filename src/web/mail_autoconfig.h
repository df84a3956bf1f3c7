// Thunderbird's autoconfiguration document (config-v1.1.xml, "clientConfig" version 1.1): the
// IMAP and SMTP servers of MailSettings, so that a mail client set up with an address finds
// them. touchpass-web serves it (autoconfig_route.h). Pure.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "web/mail_settings.h"

namespace touchpass::web {

inline constexpr std::string_view kMailAutoconfigContentType = "application/xml";

// The document: emailProvider id = the mail domain, with its domain and display names; an
// incomingServer of type imap and an outgoingServer of type smtp, each with hostname, port,
// socketType (SSL or STARTTLS), username (%EMAILLOCALPART% or %EMAILADDRESS%, as `mail.login`)
// and authentication password-cleartext (in TLS). Error internal when libxml2 fails.
Result<std::string> mail_autoconfig(const MailSettings& mail);

}  // namespace touchpass::web
