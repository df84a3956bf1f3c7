// Human-readable output: dates, aligned tables, and the listings of the daemon's results.
// Text from the daemon (labels, names, messages, USB product strings) is untrusted: whatever
// could change the terminal or reorder what it shows is replaced before it reaches one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "ipc/messages.h"

namespace touchpass::cli {

// `text` with every control character (C0, DEL, C1 such as U+009B CSI), every bidirectional
// control (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), the line and paragraph
// separators (U+2028, U+2029) and every byte that is not part of well-formed UTF-8 replaced by
// one '?' each, so that it cannot move the cursor, change the terminal or reorder what is shown
// around it. Other characters, non-ASCII included, are kept.
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

// JSON text as dumped by nlohmann::json (C0 controls already escaped), with every other
// character that could disturb a terminal (DEL, C1, bidirectional controls, U+2028, U+2029) as a
// \u escape, and invalid UTF-8 as \ufffd: the same JSON, safe to print.
std::string terminal_safe_json(std::string_view json_text);

// A result as --json prints it: indented by two, keys sorted, ending in a newline, and made
// terminal_safe_json.
std::string pretty_json(const ipc::Json& result);

}  // namespace touchpass::cli
