// Reads back QR codes with a real QR decoder: zbarimg (Debian package zbar-tools). A code the
// CLI drew on a terminal (cli/qr_text.h) is turned back into modules from its text alone (half
// blocks, ANSI colours dropped); modules are written as a PGM image; every image is decoded from
// a file in a temporary directory.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace touchpass::testing {

// Whether zbarimg can be run (tests skip, naming the package, when it cannot).
bool zbarimg_available();

// The text of the QR code whose modules are `rows` (true: dark), a quiet zone added around them.
// nullopt when zbarimg cannot decode it; `why` then says what happened.
std::optional<std::string> read_qr_modules(const std::vector<std::vector<bool>>& rows,
                                           std::string* why);

// The text of the one QR code in the PNG image `png` (e.g. a canvas's toDataURL()). nullopt when
// zbarimg finds none; `why` then says what happened.
std::optional<std::string> read_png_qr(const std::string& png, std::string* why);

// The text of the one QR code drawn in `terminal_text` (other lines are ignored: a drawn line is
// one that begins with the ANSI colour sequence). nullopt when none is found or zbarimg cannot
// decode it; `why` then says what happened.
std::optional<std::string> read_terminal_qr(const std::string& terminal_text, std::string* why);

}  // namespace touchpass::testing
