#include "core/source_networks.h"

#include <algorithm>

namespace touchpass {

namespace {

constexpr std::size_t kMaxNetworkText = 64;

// The bit `bit` (0 = the most significant bit of the first byte) of `address`.
bool bit_of(const IpAddress& address, int bit) {
  return (address.bytes[static_cast<std::size_t>(bit / 8)] & (0x80u >> (bit % 8))) != 0;
}

// `text` with its non-printable bytes replaced, cut short, for a sentence.
std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text.substr(0, kMaxNetworkText)) {
    const auto u = static_cast<unsigned char>(c);
    out += u >= 0x20 && u < 0x7f ? c : '?';
  }
  if (text.size() > kMaxNetworkText) out += "...";
  return out + "\"";
}

Error bad_network(std::string_view text, std::string_view why) {
  return Error{Code::invalid_argument,
               quoted(text) + " is not a network: " + std::string(why) +
                   " Write an IPv4 or IPv6 address, optionally with a prefix length "
                   "(192.0.2.0/24, 2001:db8::/32)."};
}

}  // namespace

std::string SourceNetwork::text() const {
  return base.text() + "/" + std::to_string(prefix);
}

bool SourceNetwork::contains(const IpAddress& address) const {
  if (address.v4 != base.v4) return false;
  for (int bit = 0; bit < prefix; ++bit) {
    if (bit_of(address, bit) != bit_of(base, bit)) return false;
  }
  return true;
}

Result<SourceNetwork> parse_source_network(std::string_view text) {
  if (text.size() > kMaxNetworkText) return bad_network(text, "it is too long.");
  const std::size_t slash = text.find('/');
  const std::string_view address_text = text.substr(0, slash);
  // IPv4-mapped IPv6 text is recognized before parse_ip_address maps it to IPv4, so that its
  // prefix can be mapped too.
  const bool mapped_text = address_text.find(':') != std::string_view::npos;
  auto address = parse_ip_address(address_text);
  if (!address) return bad_network(text, "its address does not parse.");
  SourceNetwork network;
  network.base = *address;
  const int written_bits = mapped_text ? 128 : address->bits();
  int prefix = written_bits;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return bad_network(text, "its prefix length is not a number.");
    }
    prefix = std::stoi(std::string(digits));
    if (prefix > written_bits) {
      return bad_network(text, "its prefix length is over " + std::to_string(written_bits) + ".");
    }
  }
  if (mapped_text && address->v4) {
    // ::ffff:a.b.c.d/p covers IPv4 addresses only when p >= 96; a shorter prefix leaves the
    // mapping's own bits as host bits, refused below as for any network.
    if (prefix < 96)
      return bad_network(text, "an IPv4-mapped network needs a prefix of 96 or more.");
    prefix -= 96;
  }
  network.prefix = prefix;
  for (int bit = prefix; bit < network.base.bits(); ++bit) {
    if (bit_of(network.base, bit)) {
      SourceNetwork cleared = network;
      for (int b = prefix; b < cleared.base.bits(); ++b) {
        cleared.base.bytes[static_cast<std::size_t>(b / 8)] &=
            static_cast<std::uint8_t>(~(0x80u >> (b % 8)));
      }
      return Error{Code::invalid_argument, quoted(text) + " has host bits set: write the network " +
                                               cleared.text() + ", or the single address " +
                                               network.base.text() + "/" +
                                               std::to_string(network.base.bits()) + "."};
    }
  }
  return network;
}

Result<std::vector<std::string>> canonical_source_networks(
    const std::vector<std::string>& networks) {
  if (networks.size() > kMaxSourceNetworks) {
    return Error{Code::invalid_argument, "An app password may be restricted to at most " +
                                             std::to_string(kMaxSourceNetworks) +
                                             " networks, not " + std::to_string(networks.size()) +
                                             "."};
  }
  std::vector<std::string> out;
  for (const std::string& text : networks) {
    auto network = parse_source_network(text);
    if (!network.ok()) return network.error();
    out.push_back(network->text());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool source_allowed(const std::vector<std::string>& networks, std::string_view remote) {
  if (networks.empty()) return true;
  const auto address = parse_ip_address(remote);
  if (!address) return false;
  return std::any_of(networks.begin(), networks.end(), [&](const std::string& text) {
    auto network = parse_source_network(text);
    return network.ok() && network->contains(*address);
  });
}

}  // namespace touchpass
