// The account password as a way to enroll a first key on the web (DESIGN.md §6; off unless the
// admin names a PAM service in first_key_pam_service): pam_authenticate() and pam_acct_mgmt()
// for the user through that service, the password given to every prompt that hides its echo.
#pragma once

#include <string>

#include "core/secret.h"
#include "core/status.h"

namespace touchpass::daemon {

// Checks `password` for `user` with the PAM service `service`. Ok when PAM authenticates the
// user and their account is usable. Errors: refused when PAM says the password is wrong, the
// user is unknown or the account may not be used (expired, locked) — one answer for all, so that
// nobody learns which; io_error when PAM itself failed (the service file is missing, a module
// could not be loaded), with PAM's reason. Blocks for as long as the modules take (pam_faildelay
// and pam_unix wait after a failure).
Status check_account_password(const std::string& service, const std::string& user,
                              const SecretBytes& password);

}  // namespace touchpass::daemon
