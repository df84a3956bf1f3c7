// Discovery of FIDO2 tokens for the libfido2 backend: USB tokens (hidraw, via libfido2's
// manifest), virtual tokens (the sockets in a directory, DESIGN.md §4.3), and both merged.
// Every discovery here opens what it lists as a Fido2Token.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <vector>

#include "devices/token.h"

namespace touchpass::devices::fido2 {

// FIDO HID devices (usage page 0xF1D0) as libfido2 enumerates them.
class UsbDiscovery final : public Discovery {
 public:
  Result<std::vector<TokenInfo>> enumerate() override;
  Result<std::unique_ptr<Token>> open(const TokenInfo& info) override;
};

// Virtual tokens: every Unix socket in `directory` that accepts a connection, sorted by path.
// A socket file nobody listens on (a stopped token) is not listed. A missing directory means
// no virtual tokens (not an error); one removed during the scan ends the scan without error.
// Other failures to read it are io_error.
class VirtualDirectoryDiscovery final : public Discovery {
 public:
  explicit VirtualDirectoryDiscovery(std::filesystem::path directory);
  Result<std::vector<TokenInfo>> enumerate() override;
  Result<std::unique_ptr<Token>> open(const TokenInfo& info) override;

 private:
  std::filesystem::path directory_;
};

// Several discoveries merged in the given order. open() goes to the discovery that listed the
// token in the last enumerate() (or, if there was none, the first one whose listing has it now).
// An enumerate() error of one part is returned only if every part fails.
class CompositeDiscovery final : public Discovery {
 public:
  explicit CompositeDiscovery(std::vector<std::unique_ptr<Discovery>> parts);
  Result<std::vector<TokenInfo>> enumerate() override;
  Result<std::unique_ptr<Token>> open(const TokenInfo& info) override;

 private:
  std::vector<std::unique_ptr<Discovery>> parts_;
  std::map<std::string, Discovery*> owner_;  // path -> the part that listed it last
};

// Opens `info` with the libfido2 backend (either transport).
Result<std::unique_ptr<Token>> open_fido2_token(const TokenInfo& info);

}  // namespace touchpass::devices::fido2
