// The QR code of a phone-setup link for the self-service page (issue 14): touchpass-web encodes
// the link touchpassd gave (libqrencode through core/qr_code.h) so the page only draws modules
// and holds no QR encoder of its own. Pure (no I/O).
#pragma once

#include <nlohmann/json.hpp>

namespace touchpass::web {

// When `result` (a finish result) has "phone_setup": {"link": STRING, …}, adds to that object
// "qr": {"size": N, "rows": [N strings of N characters, '1' for a dark module]}, the code without
// its quiet zone. Anything else is left as it is; a link no QR code can hold gets
// "qr_error": a sentence instead.
void add_phone_setup_qr(nlohmann::json& result);

}  // namespace touchpass::web
