#include "cli/invitation_text.h"

#include "cli/format.h"
#include "core/password.h"
#include "core/web_origin.h"

namespace touchpass::cli {

namespace {

Error malformed(std::string_view what) {
  return Error{Code::protocol_error,
               "touchpassd sent a malformed invitation (" + std::string(what) + ")."};
}

bool looks_like_code(const SecretBytes& code) {
  if (code.size() != kGroupedPasswordChars) return false;
  for (std::size_t i = 0; i < code.size(); ++i) {
    const char c = code.view()[i];
    const bool dash = (i + 1) % (kPasswordGroupChars + 1) == 0;
    if (dash ? c != '-' : kPasswordAlphabet.find(c) == std::string_view::npos) return false;
  }
  return true;
}

void append(SecretBytes& out, std::string_view text) {
  SecretBytes longer(out.size() + text.size());
  std::copy(out.view().begin(), out.view().end(), longer.data());
  std::copy(text.begin(), text.end(), longer.data() + out.size());
  out = std::move(longer);
}

}  // namespace

SecretBytes invitation_link(std::string_view origin, std::string_view code) {
  SecretBytes link = SecretBytes::copy_of(origin);
  append(link, "/#invite=");
  append(link, code);
  return link;
}

Result<SecretBytes> invitation_text(const ipc::Json& result, const SecretBytes& code) {
  const auto user = result.find("user");
  const auto expires = result.find("expires");
  const auto origin = result.find("origin");
  if (user == result.end() || !user->is_string()) return malformed("no user");
  if (expires == result.end() || !expires->is_number_integer()) return malformed("no expiry");
  if (origin == result.end() || !origin->is_string()) return malformed("no origin");
  const auto parsed = parse_web_origin(origin->get<std::string>());
  if (!parsed.ok() || parsed->origin != origin->get<std::string>()) {
    return malformed("not a web origin");
  }
  if (!looks_like_code(code)) return malformed("not an invitation code");

  SecretBytes text = SecretBytes::copy_of(
      "Invitation for " + printable(user->get<std::string>()) + ", single use, valid until " +
      format_time(expires->get<std::int64_t>()) +
      ".\nOpen this link on the computer with the security key:\n\n  ");
  append(text, invitation_link(parsed->origin, code.view()).view());
  append(text, "\n\nor enter the code ");
  append(text, code.view());
  append(text, " on " + parsed->origin + ".\n");
  return text;
}

}  // namespace touchpass::cli
