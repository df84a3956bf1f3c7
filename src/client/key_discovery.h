// Where the client looks for keys: USB FIDO2 devices through libfido2, YubiKey OTP applications
// through libykpers (both as the calling user: the OS decides which devices it may open), and a
// directory of virtual tokens (development and tests; off unless named). Builds the discovery,
// the hot-plug monitor and the broker over them.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>

#include "client/token_broker.h"
#include "core/status.h"
#include "devices/hotplug/hotplug.h"
#include "devices/token.h"

namespace touchpass::client {

struct KeySources {
  bool usb = true;                             // USB FIDO2 keys and YubiKeys
  std::filesystem::path virtual_dir;           // empty: no virtual tokens
  std::filesystem::path devices_dir = "/dev";  // where USB device nodes appear
};

// Whether this process may open the key `info` names: read and write access to its device node
// or virtual-token socket (udev's uaccess or the device's group decide). YubiKey OTP interfaces
// are reached through libusb, which finds only what this process may open.
bool may_open(const devices::TokenInfo& info);

// The discovery, the hot-plug monitor and the broker, alive together.
class KeyAccess {
 public:
  // Sets up the sources; io_error when a hot-plug source cannot be watched (e.g. the virtual
  // directory does not exist). `wait`: how long a request waits for a key to be inserted.
  static Result<std::unique_ptr<KeyAccess>> open(const KeySources& sources,
                                                 std::chrono::seconds wait);
  TokenBroker& broker() { return *broker_; }

 private:
  KeyAccess() = default;
  std::unique_ptr<devices::Discovery> discovery_;
  std::unique_ptr<devices::HotplugMonitor> hotplug_;
  std::unique_ptr<TokenBroker> broker_;
};

}  // namespace touchpass::client
