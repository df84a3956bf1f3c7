// The networks a client sends with issue-begin, and the client address a service reports with
// verify: "NETWORK\nREMOTE". A parsed network's canonical text parses to itself and contains its
// own base address; matching and the throttle's source never fail on any address.
#include <cstdlib>

#include "core/source_address.h"
#include "core/source_networks.h"
#include "fuzz.h"
#include "ipc/json_fields.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = input.find('\n');
  const std::string_view network_text = input.substr(0, newline);
  const std::string_view remote =
      newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  auto network = touchpass::parse_source_network(network_text);
  if (network.ok()) {
    const std::string canonical = network->text();
    auto again = touchpass::parse_source_network(canonical);
    if (!again.ok() || again->text() != canonical) std::abort();
    if (!network->contains(network->base)) std::abort();
    if (!touchpass::source_allowed({canonical}, network->base.text())) std::abort();
  } else if (network.error().code != touchpass::Code::invalid_argument) {
    std::abort();
  }
  (void)touchpass::source_allowed({"192.0.2.0/24", "2001:db8::/32"}, remote);
  (void)touchpass::source_of(remote, 64);
  return 0;
}

std::vector<std::string> fuzz_seeds() {
  return {"192.168.0.0/16\n192.168.1.1", "2001:db8::/32\n2001:db8::1",
          "::ffff:192.0.2.0/120\n",      "192.168.1.7/24\n::ffff:192.0.2.9",
          "0.0.0.0/0\nmail.example.org", "::/0\nfe80::1%eth0"};
}

// A network is a string field of a message; a remote address too.
std::size_t fuzz_max_len() {
  return 2 * touchpass::ipc::fields::kMaxFieldBytes + 1;
}
