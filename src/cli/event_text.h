// The lines the CLI shows for the display events of an interactive operation (PROTOCOL.md
// "Events"): insert-token, select-token, touch-token and progress — whether the daemon sent
// them (enroll) or the client library raised them while it drives the key (issue, show).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "ipc/messages.h"

namespace touchpass::cli {

// The integer field `key` of an event in [min, max]; nullopt when absent, mistyped or out of
// range.
std::optional<int> event_int_field(const ipc::Json& body, const char* key, int min, int max);

// The line (with its newline) for `event`; nullopt when `event` is not a display event (need-pin
// and need-new-pin are answered, not shown). protocol_error naming the field for a display event
// whose fields are malformed. Text from the event is made printable. `purpose`, when not empty,
// says what a touch is for: "Touch your security key " + purpose + "…" (e.g. "to sign in to
// mail.example.org").
Result<std::optional<std::string>> display_event_line(std::string_view event, const ipc::Json& body,
                                                      std::string_view purpose = {});

// The countdown of an insert-token event for a terminal, without a line end (it is redrawn in
// place as the seconds pass): "Insert your security key… 29 s left (Ctrl-C cancels)".
// protocol_error when "remaining" is missing or out of range.
Result<std::string> insert_token_countdown(const ipc::Json& body);

}  // namespace touchpass::cli
