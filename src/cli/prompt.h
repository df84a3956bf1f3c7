// Where PINs come from when the daemon asks for one (need-pin, need-new-pin events). A PIN is
// read straight into a SecretBytes and never passes through a std::string, an argument or an
// environment variable.
//
//   TerminalPinSource  asks on the controlling terminal with echo off (restored on every path)
//   LinePinSource      reads one line per PIN from a descriptor (--pin-stdin)
//   NoTerminalPinSource refuses with a sentence telling the user about --pin-stdin
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>

#include "cli/cancel.h"
#include "core/fd.h"
#include "core/secret.h"
#include "core/status.h"
#include "ipc/frame.h"

namespace touchpass::cli {

// The longest PIN we send: the protocol's limit on the secret part.
inline constexpr std::size_t kMaxPinBytes = ipc::kMaxSecretSize;

class PinSource {
 public:
  virtual ~PinSource() = default;

  // The token's current PIN; `retries` is the tries left when known (the key tells it after a
  // wrong PIN; nobody asks it before the first try). Errors: cancelled when the cancel flag is
  // raised while asking; pin_required when no PIN can be had (the sentence says why).
  virtual Result<SecretBytes> current_pin(std::optional<int> retries) = 0;

  // A new PIN of at least `min_length` characters (Unicode code points). Errors as
  // current_pin, and pin_policy when no acceptable PIN was given.
  virtual Result<SecretBytes> new_pin(int min_length) = 0;
};

// Reads PINs on a terminal without echo; a new PIN is asked twice and must match.
class TerminalPinSource final : public PinSource {
 public:
  // `tty` is the terminal, open for reading and writing. `cancel` must outlive *this.
  TerminalPinSource(UniqueFd tty, const CancelFlag& cancel);

  Result<SecretBytes> current_pin(std::optional<int> retries) override;
  Result<SecretBytes> new_pin(int min_length) override;

 private:
  Result<SecretBytes> ask(std::string_view prompt);
  void say(std::string_view text);

  UniqueFd tty_;
  const CancelFlag& cancel_;
};

// Reads one line (without its newline) per PIN from `fd`, which it does not own; a new PIN is
// read once, without confirmation. Prints no prompt.
class LinePinSource final : public PinSource {
 public:
  LinePinSource(int fd, const CancelFlag& cancel) : fd_(fd), cancel_(cancel) {}

  Result<SecretBytes> current_pin(std::optional<int> retries) override;
  Result<SecretBytes> new_pin(int min_length) override;

 private:
  int fd_;
  const CancelFlag& cancel_;
};

// For a process without a terminal and without --pin-stdin: every request fails with
// pin_required and "A PIN is needed but there is no terminal to ask on; use --pin-stdin."
class NoTerminalPinSource final : public PinSource {
 public:
  Result<SecretBytes> current_pin(std::optional<int> retries) override;
  Result<SecretBytes> new_pin(int min_length) override;
};

// The source for a command: LinePinSource on standard input with `pin_stdin`; otherwise a
// TerminalPinSource on /dev/tty, or NoTerminalPinSource when /dev/tty cannot be opened.
std::unique_ptr<PinSource> make_pin_source(bool pin_stdin, const CancelFlag& cancel);

// Reads one line from `fd` into a secret, without the line end ("\n" or "\r\n"). Waits on
// `cancel` as well. Errors: cancelled; pin_required at end of input before any byte;
// pin_policy for a line longer than `max_bytes`; io_error for a failed read.
Result<SecretBytes> read_secret_line(int fd, const CancelFlag& cancel, std::size_t max_bytes);

}  // namespace touchpass::cli
