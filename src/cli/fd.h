// File descriptors: write_all writes fully. The owner of a descriptor is touchpass::UniqueFd
// (core/fd.h), included here for the CLI's users of both.
#pragma once

#include <string_view>

#include "core/fd.h"

namespace touchpass::cli {

// Writes all of `text` to `fd`, retrying short writes and EINTR. Returns false when the write
// fails (the stream is closed or broken); there is then nothing sensible left to do with it.
bool write_all(int fd, std::string_view text);

}  // namespace touchpass::cli
