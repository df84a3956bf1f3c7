#include "core/random.h"

#include <openssl/rand.h>

#include <climits>

namespace touchpass {

Status fill_random(std::span<std::uint8_t> out) {
  // RAND_bytes takes an int: fill larger buffers in pieces.
  while (!out.empty()) {
    const std::size_t piece = std::min<std::size_t>(out.size(), INT_MAX);
    if (RAND_bytes(out.data(), static_cast<int>(piece)) != 1) {
      return Status(Code::internal, "The system random number generator failed.");
    }
    out = out.subspan(piece);
  }
  return Status::success();
}

Result<Bytes> random_bytes(std::size_t n) {
  Bytes out(n);
  if (Status s = fill_random(out); !s.ok()) return s.error();
  return out;
}

}  // namespace touchpass
