// Whether touchpassd is there: the health check's only contact with the daemon.
#pragma once

#include <filesystem>

namespace touchpass::web {

// Whether touchpassd accepts connections on the Unix socket `socket` now. Connects without
// waiting and closes the connection at once, sending nothing.
bool daemon_reachable(const std::filesystem::path& socket);

}  // namespace touchpass::web
