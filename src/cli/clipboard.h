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
};

// wl-copy; xclip -selection clipboard; xsel --clipboard --input — in that order.
const std::vector<ClipboardTool>& default_clipboard_tools();

// Copies `secret` with the first of `tools` that is found in `search_path` (a PATH value) and
// succeeds; a tool that fails is skipped. Returns the name of the tool used. Errors: not_found
// when none is installed; io_error when every installed one failed.
Result<std::string> copy_to_clipboard(std::string_view secret, std::span<const ClipboardTool> tools,
                                      std::string_view search_path);

}  // namespace touchpass::cli
