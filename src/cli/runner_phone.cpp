// issue --phone and show --phone: the phone-setup link touchpassd answered, drawn as a QR code.
#include <algorithm>

#include "cli/format.h"
#include "cli/qr_text.h"
#include "cli/runner.h"
#include "core/qr_code.h"

namespace touchpass::cli {

namespace {

constexpr std::size_t kMaxLinkBytes = 1024;

// A link worth drawing: https, printable ASCII, not too long for a QR code a phone reads well.
bool plausible_link(const std::string& link) {
  return link.starts_with("https://") && link.size() <= kMaxLinkBytes &&
         std::all_of(link.begin(), link.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

}  // namespace

bool Runner::show_phone_setup(const Json& result) {
  const auto setup = result.find("phone_setup");
  const std::optional<std::string> link =
      setup != result.end() && setup->is_object() ? string_field(*setup, "link") : std::nullopt;
  if (!link || !plausible_link(*link)) {
    const std::string why = string_field(result, "phone_setup_error")
                                .value_or("touchpassd sent no valid phone-setup link.");
    env_.console.err("No phone setup: " + printable(why) + " Here is the password instead:\n");
    return false;
  }
  auto code = encode_qr(*link);
  if (!code.ok()) {
    env_.console.err("No phone setup: " + code.error().message +
                     " Here is the password instead:\n");
    return false;
  }
  std::int64_t expires = 0;
  if (const auto e = setup->find("expires"); e != setup->end() && e->is_number_integer()) {
    expires = e->get<std::int64_t>();
  }
  env_.console.out(qr_for_terminal(*code));
  env_.console.out(*link + "\n");
  std::string when = expires > 0 ? " until " + format_time(expires) : std::string();
  env_.console.err(
      "Scan the code with the phone's camera and open the link" + when +
      ". It works once: the page installs the mail account (iPhone, iPad, Mac) or shows the "
      "settings and the password to type. `touchpass show " +
      printable(o_.name) + " --phone` makes a new link.\n");
  return true;
}

}  // namespace touchpass::cli
