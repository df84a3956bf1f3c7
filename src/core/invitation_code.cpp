#include "core/invitation_code.h"

#include "core/crypto.h"
#include "core/random.h"
#include "core/secret.h"

namespace touchpass {

namespace {
constexpr std::string_view kHashLabel = "touchpass/v1/invitation";
}  // namespace

Result<AppPassword> new_invitation_code() {
  SecretBytes key(kAppPasswordKeyBytes);
  if (Status s = fill_random(std::span(key.data(), key.size())); !s.ok()) return s.error();
  return format_password(std::span<const std::uint8_t>(key.data(), key.size()));
}

Result<Bytes> invitation_code_hash(std::string_view typed) {
  const SecretBytes normalized = normalize_password(typed);
  if (!is_well_formed(normalized.view())) {
    return Error{Code::invalid_argument,
                 "That is not an invitation code: it has 20 letters and digits, as in "
                 "\"xxxx-xxxx-xxxx-xxxx-xxxx\"."};
  }
  Bytes hash(32);
  if (Status s = crypto::sha256(
          {crypto::text_bytes(kHashLabel), crypto::ByteView(normalized.data(), normalized.size())},
          hash);
      !s.ok()) {
    return s.error();
  }
  return hash;
}

}  // namespace touchpass
