#include "support/fake_discovery.h"

#include <algorithm>
#include <utility>

namespace touchpass::testing {

FakeDiscovery::FakeDiscovery(Opener opener) : opener_(std::move(opener)) {}

void FakeDiscovery::add(devices::TokenInfo info) {
  std::lock_guard lock(mutex_);
  std::erase_if(tokens_, [&](const devices::TokenInfo& t) { return t.path == info.path; });
  tokens_.push_back(std::move(info));
}

void FakeDiscovery::remove(const std::string& path) {
  std::lock_guard lock(mutex_);
  std::erase_if(tokens_, [&](const devices::TokenInfo& t) { return t.path == path; });
}

void FakeDiscovery::fail_enumerate(std::optional<Error> error) {
  std::lock_guard lock(mutex_);
  enumerate_error_ = std::move(error);
}

int FakeDiscovery::open_calls() const {
  std::lock_guard lock(mutex_);
  return open_calls_;
}

Result<std::vector<devices::TokenInfo>> FakeDiscovery::enumerate() {
  std::lock_guard lock(mutex_);
  if (enumerate_error_) return *enumerate_error_;
  return tokens_;
}

Result<std::unique_ptr<devices::Token>> FakeDiscovery::open(const devices::TokenInfo& info) {
  Opener opener;
  {
    std::lock_guard lock(mutex_);
    ++open_calls_;
    const bool listed =
        std::any_of(tokens_.begin(), tokens_.end(),
                    [&](const devices::TokenInfo& t) { return t.path == info.path; });
    if (!listed) return Error(Code::no_token, "The token " + info.path + " is not present.");
    opener = opener_;
  }
  if (!opener) return Error(Code::not_found, "FakeDiscovery has no opener for " + info.path);
  return opener(info);
}

}  // namespace touchpass::testing
