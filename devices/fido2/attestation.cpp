#include "devices/fido2/attestation.h"

#include <openssl/sha.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "devices/fido2/errors.h"

namespace touchpass::devices::fido2 {
namespace {

constexpr std::size_t kRpIdHashSize = SHA256_DIGEST_LENGTH;
constexpr std::uint8_t kFlagUserPresent = 0x01;

Error not_verified(const std::string& what) {
  return Error(Code::verification_failed, "The security key's attestation did not verify (" + what +
                                              "). Do not use this key.");
}

}  // namespace

Status verify_attestation(const fido_cred_t* cred, std::string_view rp_id) {
  // rpIdHash (32) | flags (1) | signCount (4) | ...
  const unsigned char* auth_data = fido_cred_authdata_raw_ptr(cred);
  const std::size_t auth_data_len = fido_cred_authdata_raw_len(cred);
  if (auth_data == nullptr || auth_data_len < kRpIdHashSize + 1 + 4)
    return malformed_reply("authenticator data of the new credential");

  unsigned char expected[kRpIdHashSize];
  SHA256(reinterpret_cast<const unsigned char*>(rp_id.data()), rp_id.size(), expected);
  if (!std::equal(expected, expected + kRpIdHashSize, auth_data))
    return not_verified("the credential was made for another relying party");
  if ((auth_data[kRpIdHashSize] & kFlagUserPresent) == 0)
    return not_verified("the user-present flag is not set");

  const char* fmt = fido_cred_fmt(cred);
  const bool has_x5c = fido_cred_x5c_len(cred) > 0;
  if (!has_x5c && fmt != nullptr && std::string_view(fmt) == "none") return Status::success();
  const int verified = has_x5c ? fido_cred_verify(cred) : fido_cred_verify_self(cred);
  if (verified != FIDO_OK) return not_verified(library_error_name(verified));
  return Status::success();
}

}  // namespace touchpass::devices::fido2
