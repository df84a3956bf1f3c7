// What `touchpass invite` prints: the link and the code of a one-time invitation to enroll a
// first key through touchpass-web (DESIGN.md §6). The daemon's answer is untrusted: the origin
// must be a web origin and the code must look like one before either reaches the terminal.
#pragma once

#include <string>
#include <string_view>

#include "core/secret.h"
#include "core/status.h"
#include "ipc/messages.h"

namespace touchpass::cli {

// The link that opens touchpass-web's page at the invitation: ORIGIN/#invite=CODE (a fragment,
// so the code never reaches a server log or a Referer header). As a SecretBytes: it holds the
// code.
SecretBytes invitation_link(std::string_view origin, std::string_view code);

// The lines for a person: who it is for, until when, the link and the code. protocol_error when
// the answer lacks "user", "expires" or a valid "origin", or `code` is not an invitation code.
Result<SecretBytes> invitation_text(const ipc::Json& result, const SecretBytes& code);

}  // namespace touchpass::cli
