#include "devices/yubikey/discovery.h"

#include <charconv>
#include <string>
#include <string_view>
#include <utility>

#include "devices/yubikey/errors.h"
#include "devices/yubikey/yubikey_token.h"

namespace touchpass::devices::yubikey {
namespace {

std::string path_for(std::uint32_t serial, int index) {
  if (serial != 0) return std::string(kPathPrefix) + std::to_string(serial);
  return std::string(kPathPrefix) + "index:" + std::to_string(index);
}

std::string product_name(int product_id) {
  switch (product_id) {
    case 0x0010:
      return "YubiKey";
    case 0x0110:
    case 0x0111:
    case 0x0114:
    case 0x0116:
      return "YubiKey NEO";
    case 0x0410:
      return "YubiKey Plus";
    default:
      return "YubiKey 4/5";
  }
}

template <class Int>
bool parse_number(std::string_view text, Int& out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

Error no_such_key(const std::string& path) {
  return Error(Code::no_token, "The YubiKey " + path + " is not present. Insert it and try again.");
}

}  // namespace

Result<std::vector<FoundKey>> enumerate_keys_locked() {
  std::vector<FoundKey> found;
  for (int index = 0; index < YubiKeyDiscovery::kMaxKeys; ++index) {
    KeyPtr key(yk_open_key(index));
    if (!key) {
      const LibraryFailure failure = capture_failure();
      if (failure.yk_error == YK_ENOKEY || !found.empty()) break;
      return translate_open_failure(failure);
    }
    auto status = read_otp_status(key.get());
    if (!status) {
      if (!found.empty()) break;
      return status.error();
    }
    int vid = 0;
    int pid = 0;
    if (yk_get_key_vid_pid(key.get(), &vid, &pid) == 0) {
      vid = 0;
      pid = 0;
    }
    FoundKey entry;
    entry.index = index;
    entry.info.path = path_for(status->serial, index);
    entry.info.transport = Transport::yubikey_otp;
    entry.info.manufacturer = "Yubico";
    entry.info.product = product_name(pid);
    entry.info.vendor_id = static_cast<std::uint16_t>(vid);
    entry.info.product_id = static_cast<std::uint16_t>(pid);
    entry.info.serial = status->serial;
    entry.info.firmware = status->firmware;
    found.push_back(std::move(entry));
  }
  return found;
}

Result<KeyPtr> open_key_locked(const std::string& path) {
  if (!path.starts_with(kPathPrefix)) {
    return Error(Code::invalid_argument, "Not a YubiKey OTP token: " + path);
  }
  const std::string_view rest = std::string_view(path).substr(kPathPrefix.size());
  int wanted_index = -1;
  std::uint32_t wanted_serial = 0;
  if (rest.starts_with("index:")) {
    if (!parse_number(rest.substr(6), wanted_index) || wanted_index < 0) {
      return Error(Code::invalid_argument, "Not a YubiKey OTP token: " + path);
    }
  } else if (!parse_number(rest, wanted_serial) || wanted_serial == 0) {
    return Error(Code::invalid_argument, "Not a YubiKey OTP token: " + path);
  }

  for (int index = 0; index < YubiKeyDiscovery::kMaxKeys; ++index) {
    if (wanted_index >= 0 && index != wanted_index) continue;
    KeyPtr key(yk_open_key(index));
    if (!key) {
      const LibraryFailure failure = capture_failure();
      if (failure.yk_error == YK_ENOKEY) return no_such_key(path);
      return translate_open_failure(failure);
    }
    if (wanted_index >= 0) return key;
    unsigned int serial = 0;
    if (yk_get_serial(key.get(), 0, 0, &serial) != 0 && serial == wanted_serial) return key;
  }
  return no_such_key(path);
}

Result<std::vector<TokenInfo>> YubiKeyDiscovery::enumerate() {
  auto lock = lock_libykpers();
  if (!lock) return lock.error();
  auto found = enumerate_keys_locked();
  if (!found) return found.error();
  std::vector<TokenInfo> tokens;
  for (FoundKey& key : *found) tokens.push_back(std::move(key.info));
  return tokens;
}

Result<std::unique_ptr<Token>> YubiKeyDiscovery::open(const TokenInfo& info) {
  auto token = YubiKeyToken::open(info);
  if (!token) return token.error();
  return std::unique_ptr<Token>(std::move(token).value());
}

}  // namespace touchpass::devices::yubikey
