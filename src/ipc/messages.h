// The JSON messages of protocol v1 (PROTOCOL.md): requests from clients, and events and final
// answers from the daemon. Parsing is strict: unknown operations, wrong types and values out of
// range are protocol errors with a sentence naming the field. Secrets never appear here; they
// travel in the frame's secret part (frame.h).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/grant.h"
#include "core/status.h"
#include "ipc/ceremony.h"

namespace touchpass::ipc {

using Json = nlohmann::json;

inline constexpr int kProtocolVersion = 1;

// How deeply the objects and arrays of a message may nest (the message itself is level 1); the
// deepest message of the protocol needs 6. Deeper messages are refused while they are parsed,
// before any of them is built, so that no party recurses over an untrusted tree.
inline constexpr int kMaxJsonDepth = 16;

enum class Op {
  devices,
  enroll_begin,  // "enroll-begin": the first half of the enroll ceremony (ceremony.h)
  tokens,
  issue_begin,  // "issue-begin": the first half of the issue ceremony (ceremony.h)
  show_begin,   // "show-begin"
  finish,       // the second half of an issue or show ceremony
  list,
  revoke,
  rename,
  log,
  verify,
  unlock,
  invite,        // a one-time invitation to enroll a first key through touchpass-web
  signin_begin,  // "signin-begin" (touchpass-web only): the first half of a web sign-in
  session,       // (touchpass-web only) who the session in the secret part belongs to
  signout,       // (touchpass-web only) ends the session in the secret part
  services,      // the services app passwords may be scoped to
  phone_setup    // "phone-setup" (touchpass-web only): takes a phone's password (phone_setups.h)
};

// JSON text parsed with the protocol's depth bound: a value nesting deeper than kMaxJsonDepth
// levels is discarded as the parser meets its first bracket, so no deep tree is ever built.
// `value` is discarded when the text is not JSON or too deep (`too_deep` says which).
struct BoundedJson {
  Json value;
  bool too_deep = false;
};
BoundedJson parse_json_bounded(std::string_view text);

std::string_view op_name(Op op);
std::optional<Op> op_from_name(std::string_view name);

// One client message. Which fields matter depends on `op` (PROTOCOL.md).
struct Request {
  Op op = Op::list;
  std::optional<std::string> user;    // act on this user (admins only, unless it is oneself)
  bool all_users = false;             // tokens, list: everyone's
  std::string label;                  // enroll
  std::optional<std::string> uv;      // enroll: "pin" or "presence"
  TokenKind kind = TokenKind::fido2;  // enroll
  int slot = 2;                       // enroll, yubikey: the challenge-response slot, 1 or 2
  bool program = false;               // enroll, yubikey: program the slot with a fresh key first
  bool force = false;                 // enroll, yubikey: … even if it is programmed already
  bool invitation = false;            // enroll through touchpass-web: the code is in `secret`
  bool account_password = false;      // … a first key: the account password is in `secret`
  std::string name;                   // issue, show, revoke, rename
  std::string new_name;               // rename
  std::vector<std::string> scopes;    // issue: the services it is for (any case)
  bool every_service = false;         // issue: for every service (then `scopes` is empty)
  bool phone_setup = false;           // issue, show: keep the password for a phone's link
  std::vector<std::string> networks;  // issue: where it may be used from (empty: anywhere)
  std::int64_t expires = 0;           // issue: Unix seconds, 0 = never; invite: 0 = in a day
  bool all = false;                   // revoke: every grant of the user; unlock: every source
  std::string token;                  // revoke: an enrolled token (by label) and its grants
  int limit = 0;                      // log: newest N entries, 0 = all
  bool verify_chain = false;          // log: check the hash chain
  std::string service;                // verify
  std::string remote;                 // verify, and touchpass-web's requests: the client's address
  std::string source;                 // unlock: a locked source (address or network)
  Finish finish;                      // finish: what the key produced

  // Parses and validates one request. Errors: unsupported_version; protocol_error, also for a
  // message over kMaxJsonSize or nesting deeper than kMaxJsonDepth.
  static Result<Request> parse(std::string_view json_text);
  std::string to_json() const;
};

// A message from the daemon, as a client sees it.
struct Reply {
  enum class Kind { event, ok, error };
  Kind kind = Kind::error;
  std::string event;  // Kind::event: "insert-token", "need-pin", "touch-token", "progress"
  Json body;          // the event's fields, or the final result
  Error error;        // Kind::error

  // Parses one message from the daemon; `body` takes the result or the event's fields without
  // copying them. Errors: unsupported_version; protocol_error, also for a message over
  // kMaxJsonSize or nesting deeper than kMaxJsonDepth.
  static Result<Reply> parse(std::string_view json_text);
};

// Daemon side: serialized messages.
std::string event_message(std::string_view event, Json fields = Json::object());
std::string ok_message(Json result = Json::object());
std::string error_message(const Error& error);

// Maps a stable code name back to its Code (clients); nullopt for an unknown name.
std::optional<Code> code_from_name(std::string_view name);

}  // namespace touchpass::ipc
