// Copying a password to the clipboard (--copy) by running a clipboard program with the
// password on its standard input. No shell is involved and the password is never an argument.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace touchpass::cli {

struct ClipboardTool {
  std::string name;               // the program, looked up in PATH
  std::vector<std::string> args;  // its arguments (after the program name)
  // The environment variable naming the session whose clipboard it fills (WAYLAND_DISPLAY,
  // DISPLAY): without it, the tool has no clipboard to copy to.
  std::string display_variable;
};

// Where --copy may copy to: the tools, the PATH value to find them in, and which display
// variables are set (not empty) in the environment.
struct ClipboardPlace {
  std::vector<ClipboardTool> tools;
  std::string search_path;
  std::vector<std::string> displays;
};

// wl-copy (WAYLAND_DISPLAY); xclip -selection clipboard, xsel --clipboard --input (DISPLAY) — in
// that order.
const std::vector<ClipboardTool>& default_clipboard_tools();

// The display variables of `tools` that this process's environment sets to a non-empty value.
std::vector<std::string> display_variables_set(std::span<const ClipboardTool> tools);

// Success when a tool of `place` can be tried here: its display variable is set and it is
// found in the search path. Errors: not_found, with a sentence saying what is missing (a
// graphical session, or a tool for it).
Status check_clipboard(const ClipboardPlace& place);

// Copies `secret` with the first tool of `place` that can be tried here (as check_clipboard)
// and succeeds; a tool that fails is skipped. Returns the name of the tool used. Errors: those
// of check_clipboard; io_error when every tool tried failed.
Result<std::string> copy_to_clipboard(std::string_view secret, const ClipboardPlace& place);

}  // namespace touchpass::cli
