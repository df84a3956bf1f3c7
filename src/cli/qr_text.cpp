#include "cli/qr_text.h"

namespace touchpass::cli {

namespace {

constexpr std::string_view kBlackOnWhite = "\x1b[30;47m";
constexpr std::string_view kReset = "\x1b[0m";

}  // namespace

std::string qr_for_terminal(const QrCode& code) {
  std::string out;
  const int first = -kQrQuietZone;
  const int end = code.size + kQrQuietZone;
  for (int y = first; y < end; y += 2) {
    out += kBlackOnWhite;
    for (int x = first; x < end; ++x) {
      const bool top = code.at(x, y);
      const bool bottom = y + 1 < end && code.at(x, y + 1);
      if (top && bottom) {
        out += "\u2588";
      } else if (top) {
        out += "\u2580";
      } else if (bottom) {
        out += "\u2584";
      } else {
        out += ' ';
      }
    }
    out += kReset;
    out += '\n';
  }
  return out;
}

}  // namespace touchpass::cli
