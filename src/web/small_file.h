// Reading the small files touchpass-web starts from (its configuration, the TLS certificate and
// key): a regular file of bounded size, read straight into wiped memory, so that a key never
// passes through an ordinary buffer.
#pragma once

#include <cstddef>
#include <filesystem>

#include "core/secret.h"
#include "core/status.h"

namespace touchpass::web {

// The bytes of the regular file `path`, followed by one NUL byte (so that size() is the file's
// size plus one). Errors: io_error when it cannot be opened or read (the message names the file
// and the reason); invalid_argument when it is not a regular file, or is empty or larger than
// `max_bytes`.
Result<SecretBytes> read_small_file(const std::filesystem::path& path, std::size_t max_bytes);

}  // namespace touchpass::web
