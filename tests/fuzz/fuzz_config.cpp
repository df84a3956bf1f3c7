// touchpassd's configuration file.
#include "daemon/config.h"
#include "fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)touchpass::daemon::parse_config(std::string_view(reinterpret_cast<const char*>(data), size),
                                        "fuzz.conf");
  return 0;
}

std::vector<std::string> fuzz_seeds() {
  return {
      "socket = /run/touchpass/touchpassd.sock\nstore=/var/lib/touchpass/touchpass.db\n"
      "# comment\nuv = allowed\ntoken_timeout = 30\nlockout_seconds = 900\n"
      "virtual_token_dir =\nrp_id = touchpass\nusb_tokens = no\n",
      "max_clients = 99999999999999999999\n", "failure_delay_ms = -1\n"};
}

// load_config refuses a file over 1 MiB before it parses it.
std::size_t fuzz_max_len() {
  return 1 << 20;
}
