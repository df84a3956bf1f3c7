// An Apple configuration profile (.mobileconfig) that sets up one user's mail account on an
// iPhone, iPad or Mac with an app password: an XML property list of PayloadType Configuration
// holding one com.apple.mail.managed payload (IMAP in, SMTP out, both over TLS). Pure but for
// the random payload UUIDs.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "web/mail_settings.h"

namespace touchpass::web {

// The Content-Type to serve a profile with; Safari offers to install it.
inline constexpr std::string_view kAppleProfileContentType = "application/x-apple-aspen-config";

// Whose account the profile sets up. The views must outlive the call; nothing keeps them.
struct ProfileAccount {
  std::string_view user;           // the user name (the address's local part)
  std::string_view password_name;  // what the user called the app password, e.g. "iPhone mail"
  std::string_view password;       // the app password (e.g. a SecretBytes' view())
  std::string_view display_name;   // the name in sent messages; empty: the user name
};

// The profile for `account` on the servers of `mail`. Both servers log in with the account's
// login (MailSettings::account_of) and `password` (OutgoingPasswordSameAsIncomingPassword);
// UseSSL is true for both security modes (a client uses STARTTLS on the STARTTLS ports).
// PayloadIdentifier is the mail domain reversed + ".touchpass.mail." + the user, so that a
// profile installed again for the same user replaces the earlier one; the two PayloadUUIDs are
// new random (version 4) UUIDs in upper case. The document holds the password: the caller must
// wipe it (OPENSSL_cleanse) once it is sent; the buffers made here are wiped.
// Errors: invalid_argument when a text is not UTF-8 or holds control characters (XML cannot
// carry them), or the user or the password is empty; internal when libxml2 or the random
// generator fails.
Result<std::string> apple_mail_profile(const MailSettings& mail, const ProfileAccount& account);

}  // namespace touchpass::web
