// Reads back a QR code the CLI drew on a terminal (cli/qr_text.h) with a real QR decoder:
// zbarimg (Debian package zbar-tools). The drawing is turned back into modules from its text
// alone (half blocks, ANSI colours dropped), written as a PGM image and decoded.
#pragma once

#include <optional>
#include <string>

namespace touchpass::testing {

// Whether zbarimg can be run (tests skip, naming the package, when it cannot).
bool zbarimg_available();

// The text of the one QR code drawn in `terminal_text` (other lines are ignored: a drawn line is
// one that begins with the ANSI colour sequence). nullopt when none is found or zbarimg cannot
// decode it; `why` then says what happened.
std::optional<std::string> read_terminal_qr(const std::string& terminal_text, std::string* why);

}  // namespace touchpass::testing
