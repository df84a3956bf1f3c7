// Status and Result<T>: cheap error values passed across module boundaries instead of
// exceptions. Every error carries a stable code (for the wire protocol and for tests) and a
// sentence a person can act on (for prompts and logs). Secrets never go into messages.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace touchpass {

// Stable error codes. The numeric values and the names returned by code_name() are part of the
// IPC protocol: append new codes, never renumber.
enum class Code : int {
  ok = 0,
  // Token and PIN.
  pin_invalid = 1,           // wrong PIN; Error::retries_left says how many tries remain
  pin_blocked = 2,           // no tries left: the token must be reset
  pin_auth_blocked = 3,      // too many wrong PINs in a row: remove and reinsert the token
  pin_required = 4,          // the operation needs the token's PIN and none was given
  pin_not_set = 5,           // the token has no PIN yet
  pin_policy = 6,            // the new PIN is too short, too long or otherwise refused
  token_removed = 7,         // the token went away during the operation
  no_token = 8,              // no token present (or none matching)
  no_credentials = 9,        // the token does not hold the credential asked for
  presence_denied = 10,      // the user refused (or the token denied) presence
  presence_timeout = 11,     // nobody touched the token in time
  cancelled = 12,            // the operation was cancelled
  capability_missing = 13,   // the token lacks a feature we need (the message names it)
  malformed_reply = 14,      // the token answered something we cannot parse
  clone_suspected = 15,      // the signature counter went backwards
  verification_failed = 16,  // an attestation or assertion signature did not verify
  token_error = 17,          // any other error reported by the token
  // General.
  invalid_argument = 100,     // bad input from the caller
  io_error = 101,             // operating-system I/O failed
  internal = 102,             // a bug or an unexpected library failure
  not_found = 103,            // the named thing does not exist
  permission_denied = 104,    // the caller may not do this
  protocol_error = 105,       // a malformed or unexpected IPC message
  unsupported_version = 106,  // an IPC message of a protocol version we do not speak
  refused = 107,              // verify: the password is not accepted (the audit log says why)
  busy = 108,                 // the daemon has no room for this client now; try again later
  integrity = 109,  // the store was changed outside touchpassd (a MAC or the audit chain fails)
};

// The stable lower-case name of a code, e.g. "pin_invalid".
std::string_view code_name(Code code);

// One error: code, a sentence for a person, and (for pin_invalid) the tries left.
struct Error {
  Code code = Code::internal;
  std::string message;
  std::optional<int> retries_left;

  Error() = default;
  Error(Code c, std::string msg, std::optional<int> retries = std::nullopt)
      : code(c), message(std::move(msg)), retries_left(retries) {}
};

// Status: success or one Error.
class [[nodiscard]] Status {
 public:
  Status() = default;                                // success
  Status(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design
  Status(Code code, std::string message) : error_(Error{code, std::move(message)}) {}

  static Status success() { return Status(); }

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  Code code() const { return error_ ? error_->code : Code::ok; }
  // Precondition: !ok().
  const Error& error() const {
    assert(error_);
    return *error_;
  }
  std::string_view message() const { return error_ ? std::string_view(error_->message) : ""; }

 private:
  std::optional<Error> error_;
};

// Result<T>: a T or one Error.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit
  Result(Code code, std::string message) : v_(std::in_place_index<1>, code, std::move(message)) {}
  // Precondition: !status.ok().
  Result(const Status& status) : v_(std::in_place_index<1>, status.error()) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  Code code() const { return ok() ? Code::ok : std::get<1>(v_).code; }

  // Preconditions: ok().
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // Precondition: !ok().
  const Error& error() const { return std::get<1>(v_); }
  Status status() const { return ok() ? Status() : Status(error()); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace touchpass
