// QR codes (ISO/IEC 18004) through libqrencode, for the phone-setup link: the CLI draws one on
// the terminal and touchpass-web gives the page one to draw. Pure (no I/O).
#pragma once

#include <string_view>
#include <vector>

#include "core/status.h"

namespace touchpass {

// A QR code's modules, without the quiet zone: `size` × `size`, row by row.
struct QrCode {
  int size = 0;
  std::vector<bool> dark;

  // Whether the module at column `x`, row `y` is dark; false outside the code (the quiet zone).
  bool at(int x, int y) const {
    return x >= 0 && y >= 0 && x < size && y < size &&
           dark[static_cast<std::size_t>(y) * static_cast<std::size_t>(size) +
                static_cast<std::size_t>(x)];
  }
};

// The QR code of `text` in 8-bit mode at error correction level M, of the smallest version that
// holds it. Errors: invalid_argument when `text` is empty or too long for a QR code (more than
// about 2,300 bytes at level M); internal when libqrencode fails otherwise.
Result<QrCode> encode_qr(std::string_view text);

}  // namespace touchpass
