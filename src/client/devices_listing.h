// What `touchpass devices` shows: the keys this client sees now, with the catalog's model name
// and, for YubiKeys, serial, firmware and which challenge-response slots are programmed.
#pragma once

#include "client/token_broker.h"
#include "core/status.h"
#include "ipc/messages.h"

namespace touchpass::client {

// {"devices": [Device…]} (PROTOCOL.md "Objects") for the keys `broker` finds now.
Result<ipc::Json> describe_devices(TokenBroker& broker);

}  // namespace touchpass::client
