// Console: where the command writes. Standard output carries results only (tables, JSON, the
// password); standard error carries prompts, progress, hints and errors. Tests substitute a
// recording console.
#pragma once

#include <optional>
#include <string_view>

namespace touchpass::cli {

class Console {
 public:
  virtual ~Console() = default;

  // Writes `text` to standard output.
  virtual void out(std::string_view text) = 0;
  // Writes `text` to standard error.
  virtual void err(std::string_view text) = 0;
  // Writes a secret to standard output without copying it into any buffer of ours.
  virtual void out_secret(std::string_view secret) = 0;
  // Asks `question` on the terminal: true for an answer starting with y or Y, false for any
  // other answer; nullopt when there is no terminal to ask on.
  virtual std::optional<bool> confirm(std::string_view question) = 0;
  // Whether standard error is a terminal, where a line may be redrawn in place (a countdown).
  virtual bool err_is_terminal() const { return false; }
};

// The process's standard output and error, written unbuffered with write(2), and /dev/tty
// for confirmations.
class StdConsole final : public Console {
 public:
  void out(std::string_view text) override;
  void err(std::string_view text) override;
  void out_secret(std::string_view secret) override;
  std::optional<bool> confirm(std::string_view question) override;
  bool err_is_terminal() const override;
};

}  // namespace touchpass::cli
