#include "client/devices_listing.h"

#include "devices/catalog/catalog.h"

namespace touchpass::client {

Result<ipc::Json> describe_devices(TokenBroker& broker) {
  auto present = broker.present();
  if (!present.ok()) return present.error();
  ipc::Json list = ipc::Json::array();
  for (const auto& d : *present) {
    const bool otp = d.transport == devices::Transport::yubikey_otp;
    ipc::Json device = {{"path", d.path},
                        {"product", d.product},
                        {"manufacturer", d.manufacturer},
                        {"vendor_id", d.vendor_id},
                        {"product_id", d.product_id},
                        {"kind", otp ? "yubikey" : "fido2"},
                        {"virtual", d.is_virtual()}};
    if (const auto* known = devices::catalog::find_token(d.vendor_id, d.product_id)) {
      device["model"] = std::string(known->vendor) + " " + std::string(known->product);
    }
    if (otp) {
      device["serial"] = d.serial;
      device["firmware"] = d.firmware.to_string();
      if (auto status = broker.otp_status(d); status.ok()) {
        ipc::Json slots = ipc::Json::array();
        for (std::size_t i = 0; i < status->slots.size(); ++i) {
          slots.push_back({{"slot", i + 1}, {"programmed", status->slots[i].programmed}});
        }
        device["slots"] = slots;
      }
    }
    list.push_back(std::move(device));
  }
  return ipc::Json{{"devices", list}};
}

}  // namespace touchpass::client
