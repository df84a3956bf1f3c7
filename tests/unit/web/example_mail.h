// The mail settings the web unit tests build documents from: example.org, IMAP over TLS on 993,
// SMTP with STARTTLS on 587 at `smtp_host`, users logging in with their user name.
#pragma once

#include <string>

#include "web/mail_settings.h"

namespace touchpass::web::testing {

inline MailSettings example_mail(const std::string& smtp_host = "smtp.example.org") {
  MailSettings m;
  m.domain = "example.org";
  m.imap = {"imap.example.org", 993, MailSecurity::ssl};
  m.smtp = {smtp_host, 587, MailSecurity::starttls};
  m.login = MailLogin::user;
  return m;
}

}  // namespace touchpass::web::testing
