// Human-readable output: dates, aligned tables, and the listings of the daemon's results.
// Text from the daemon (labels, names, messages) is untrusted: control characters are
// replaced before it reaches a terminal.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "ipc/messages.h"

namespace touchpass::cli {

// `text` with every control character (C0, DEL) replaced by '?', so that it cannot move the
// cursor or change the terminal.
std::string printable(std::string_view text);

// The number of Unicode code points in UTF-8 `text` (bytes that do not continue a character).
std::size_t count_characters(std::string_view text);

// Unix seconds as local time, "YYYY-MM-DD HH:MM".
std::string format_time(std::int64_t unix_seconds);

// Left-aligned columns under `headers`, two spaces apart, one line per row, no trailing
// spaces. Widths count UTF-8 code points. Precondition: every row has headers.size() cells.
std::string render_table(const std::vector<std::string>& headers,
                         const std::vector<std::vector<std::string>>& rows);

// The listings of the daemon's results (PROTOCOL.md "Objects"). `with_user` adds a user column
// (for --all-users). Errors: protocol_error when the result does not have the documented shape.
Result<std::string> tokens_table(const ipc::Json& result, bool with_user);
Result<std::string> grants_table(const ipc::Json& result, bool with_user);
Result<std::string> devices_table(const ipc::Json& result);
Result<std::string> log_table(const ipc::Json& result);
// The brute-force protection part of a `list` answer, for a person: the sources locked (and
// until when) and the recent failures; empty when there is nothing to say.
std::string throttle_summary(const ipc::Json& result);

// A result as --json prints it: indented by two, keys sorted, ending in a newline.
std::string pretty_json(const ipc::Json& result);

}  // namespace touchpass::cli
