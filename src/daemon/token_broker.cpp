#include "daemon/token_broker.h"

#include <thread>

namespace touchpass::daemon {

namespace {
constexpr std::chrono::milliseconds kPollInterval{250};
}  // namespace

TokenBroker::TokenBroker(devices::Discovery& discovery, std::chrono::seconds wait)
    : discovery_(discovery), wait_(wait) {}

TokenBroker::Lease::Lease(TokenBroker* broker, std::unique_ptr<devices::Token> token)
    : broker_(broker), token_(std::move(token)) {}

TokenBroker::Lease::Lease(Lease&& other) noexcept
    : broker_(std::exchange(other.broker_, nullptr)), token_(std::move(other.token_)) {}

TokenBroker::Lease::~Lease() {
  if (broker_ != nullptr && token_) {
    const std::string path = token_->info().path;
    token_.reset();  // close the device before another request may open it
    broker_->release(path);
  }
}

void TokenBroker::release(const std::string& path) {
  std::lock_guard lock(mu_);
  busy_.erase(path);
}

Result<std::vector<devices::TokenInfo>> TokenBroker::present() {
  std::lock_guard lock(mu_);
  return discovery_.enumerate();
}

Result<TokenBroker::Lease> TokenBroker::acquire(Interaction& io, const Usable& usable) {
  const auto deadline = std::chrono::steady_clock::now() + wait_;
  WatchScope watch(io, nullptr);  // a cancel while waiting for a token ends the wait
  bool told = false;
  bool forbidden = false;  // a token was present that this user may not use
  Error last{Code::no_token, "No security key was found. Insert your security key and try again."};
  while (true) {
    if (io.cancelled()) return Error{Code::cancelled, "Cancelled."};
    {
      std::lock_guard lock(mu_);
      auto found = discovery_.enumerate();
      if (found.ok()) {
        for (const auto& info : *found) {
          if (busy_.count(info.path) != 0) continue;
          if (!usable(info)) {
            forbidden = true;
            continue;
          }
          auto token = discovery_.open(info);
          if (!token.ok()) {
            last = token.error();
            continue;
          }
          busy_.insert(info.path);
          return Lease(this, std::move(*token));
        }
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      if (forbidden && last.code == Code::no_token) {
        return Error{Code::permission_denied,
                     "The security key plugged in here is not yours to use: touchpass only "
                     "uses keys you could open yourself (the user at this computer's seat, or "
                     "members of the group that owns the device)."};
      }
      if (last.code == Code::no_token) {
        last.message = "No security key was inserted in time. Insert it and try again.";
      }
      return last;
    }
    if (!told) {
      io.send_event("insert-token",
                    {{"timeout", std::chrono::duration_cast<std::chrono::seconds>(wait_).count()}});
      told = true;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace touchpass::daemon
