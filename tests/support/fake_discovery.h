// FakeDiscovery: a devices::Discovery whose tokens the test adds and removes, for code that must
// react to tokens appearing and vanishing without any device.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "devices/token.h"

namespace touchpass::testing {

class FakeDiscovery final : public devices::Discovery {
 public:
  // Makes the Token for an open() of a listed token.
  using Opener = std::function<Result<std::unique_ptr<devices::Token>>(const devices::TokenInfo&)>;

  explicit FakeDiscovery(Opener opener = {});

  // Lists `info` (replacing a token with the same path): the token is plugged in.
  void add(devices::TokenInfo info);
  // Stops listing the token at `path`: it is unplugged.
  void remove(const std::string& path);
  // Makes enumerate() fail with `error` until cleared with nullopt.
  void fail_enumerate(std::optional<Error> error);
  int open_calls() const;

  // The listed tokens in the order added.
  Result<std::vector<devices::TokenInfo>> enumerate() override;
  // no_token if `info.path` is not listed; else the opener's result (not_found without opener).
  Result<std::unique_ptr<devices::Token>> open(const devices::TokenInfo& info) override;

 private:
  Opener opener_;
  mutable std::mutex mutex_;
  std::vector<devices::TokenInfo> tokens_;
  std::optional<Error> enumerate_error_;
  int open_calls_ = 0;
};

}  // namespace touchpass::testing
