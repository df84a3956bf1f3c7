// Discovery of YubiKeys' OTP applications through libykpers, which finds keys through libusb-1.0
// only (VID 0x1050 and the PIDs of keys with an OTP interface). Each key is listed as one
// TokenInfo with transport yubikey_otp, its serial (0 if hidden) and firmware version.
#pragma once

#include <memory>
#include <vector>

#include "devices/token.h"
#include "devices/yubikey/libykpers.h"

namespace touchpass::devices::yubikey {

class YubiKeyDiscovery final : public Discovery {
 public:
  // The keys present now: yk_open_key(0), yk_open_key(1), … until YK_ENOKEY (at most
  // kMaxKeys), each asked for its status and serial and closed again. If a key cannot be opened
  // (e.g. missing udev permission) and none was listed, that error is returned (io_error with
  // the udev sentence); otherwise the keys found so far.
  Result<std::vector<TokenInfo>> enumerate() override;
  // YubiKeyToken::open.
  Result<std::unique_ptr<Token>> open(const TokenInfo& info) override;

  static constexpr int kMaxKeys = 16;
};

// One key found by enumerate_keys_locked: its libykpers index and what discovery lists.
struct FoundKey {
  int index = 0;
  TokenInfo info;
};

// The keys present now (see YubiKeyDiscovery::enumerate). Precondition: the libykpers lock is
// held.
Result<std::vector<FoundKey>> enumerate_keys_locked();

// Opens the key named by `path` ("yubikey-otp:<serial>" or "yubikey-otp:index:<n>"): no_token
// when no such key is present, invalid_argument for another kind of path. Precondition: the
// libykpers lock is held.
Result<KeyPtr> open_key_locked(const std::string& path);

}  // namespace touchpass::devices::yubikey
