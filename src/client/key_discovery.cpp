#include "client/key_discovery.h"

#include <unistd.h>

#include <vector>

#include "devices/fido2/discovery.h"
#include "devices/yubikey/discovery.h"

namespace touchpass::client {

bool may_open(const devices::TokenInfo& info) {
  if (info.transport == devices::Transport::yubikey_otp) return true;
  const int mode = info.is_virtual() ? W_OK : (R_OK | W_OK);  // connecting to a socket writes
  return ::access(info.path.c_str(), mode) == 0;
}

Result<std::unique_ptr<KeyAccess>> KeyAccess::open(const KeySources& sources,
                                                   std::chrono::seconds wait) {
  std::vector<std::unique_ptr<devices::Discovery>> parts;
  if (!sources.virtual_dir.empty()) {
    parts.push_back(
        std::make_unique<devices::fido2::VirtualDirectoryDiscovery>(sources.virtual_dir));
  }
  if (sources.usb) {
    parts.push_back(std::make_unique<devices::fido2::UsbDiscovery>());
    parts.push_back(std::make_unique<devices::yubikey::YubiKeyDiscovery>());
  }
  std::unique_ptr<KeyAccess> access(new KeyAccess());
  access->discovery_ = std::make_unique<devices::fido2::CompositeDiscovery>(std::move(parts));
  auto hotplug =
      devices::HotplugMonitor::start(sources.virtual_dir, sources.usb,
                                     sources.usb ? sources.devices_dir : std::filesystem::path());
  if (!hotplug.ok()) return hotplug.error();
  access->hotplug_ = std::move(*hotplug);
  access->broker_ = std::make_unique<TokenBroker>(*access->discovery_, *access->hotplug_, wait);
  return access;
}

}  // namespace touchpass::client
