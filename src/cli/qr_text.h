// A QR code drawn on a terminal: two rows of modules per line with the half-block characters
// (U+2580 ▀, U+2584 ▄, U+2588 █), dark modules in black on a white background set by ANSI
// colours, so that it scans on dark and light terminals alike, with a quiet zone of 4 modules.
#pragma once

#include <string>

#include "core/qr_code.h"

namespace touchpass::cli {

inline constexpr int kQrQuietZone = 4;

// The lines that draw `code`, each ending in "\n".
std::string qr_for_terminal(const QrCode& code);

}  // namespace touchpass::cli
