#include "core/qr_code.h"

#include <qrencode.h>

#include <cerrno>
#include <memory>

namespace touchpass {

namespace {

struct QrFree {
  void operator()(QRcode* code) const { QRcode_free(code); }
};

}  // namespace

Result<QrCode> encode_qr(std::string_view text) {
  if (text.empty()) return Error{Code::invalid_argument, "There is nothing to put in a QR code."};
  // QRcode_encodeData takes the bytes as they are (8-bit mode), NUL bytes included.
  errno = 0;
  std::unique_ptr<QRcode, QrFree> code(
      QRcode_encodeData(static_cast<int>(text.size()),
                        reinterpret_cast<const unsigned char*>(text.data()), 0, QR_ECLEVEL_M));
  if (!code) {
    if (errno == ERANGE || errno == EINVAL) {
      return Error{Code::invalid_argument, "The text is too long for a QR code."};
    }
    return Error{Code::internal, "Could not make the QR code."};
  }
  QrCode out;
  out.size = code->width;
  const auto n = static_cast<std::size_t>(code->width) * static_cast<std::size_t>(code->width);
  out.dark.resize(n);
  // Bit 0 of each byte is the module's colour (1 = dark); the other bits describe its role.
  for (std::size_t i = 0; i < n; ++i) out.dark[i] = (code->data[i] & 1U) != 0;
  return out;
}

}  // namespace touchpass
