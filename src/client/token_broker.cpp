#include "client/token_broker.h"

#include <algorithm>
#include <condition_variable>
#include <optional>
#include <thread>
#include <vector>

namespace touchpass::client {

namespace {
// How often a waiting request checks for a cancel, and rescans without a hot-plug event (a
// safety net: tokens are normally noticed through the hot-plug monitor at once).
constexpr std::chrono::milliseconds kCancelPoll{100};
constexpr std::chrono::milliseconds kRescanInterval{5000};
// After a hot-plug event: rescan this often for this long.
constexpr std::chrono::milliseconds kSettleRescan{100};
constexpr std::chrono::milliseconds kSettleTime{2000};
}  // namespace

TokenBroker::TokenBroker(devices::Discovery& discovery, const devices::Hotplug& hotplug,
                         std::chrono::seconds wait)
    : discovery_(discovery), hotplug_(hotplug), wait_(wait) {}

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

Result<devices::OtpStatus> TokenBroker::otp_status(const devices::TokenInfo& info) {
  std::lock_guard lock(mu_);
  if (busy_.count(info.path) != 0) return Error{Code::cancelled, "The key is in use."};
  auto token = discovery_.open(info);
  if (!token.ok()) return token.error();
  devices::OtpFacet* otp = (*token)->otp();
  if (otp == nullptr) {
    return Error{Code::capability_missing, "This security key has no YubiKey OTP application."};
  }
  return otp->otp_status();
}

Result<std::vector<devices::TokenInfo>> TokenBroker::present() {
  std::lock_guard lock(mu_);
  return discovery_.enumerate();
}

std::vector<std::unique_ptr<devices::Token>> TokenBroker::open_all(
    const std::vector<devices::TokenInfo>& candidates, Error& last) {
  std::vector<std::unique_ptr<devices::Token>> opened;
  for (const auto& info : candidates) {
    Result<std::unique_ptr<devices::Token>> token = [&] {
      std::lock_guard lock(mu_);  // discovery is not thread-safe
      return discovery_.open(info);
    }();
    if (token.ok()) {
      opened.push_back(std::move(*token));
    } else {
      last = token.error();
      release(info.path);
    }
  }
  return opened;
}

void TokenBroker::keep_one_known_by_serial(std::vector<std::unique_ptr<devices::Token>>& opened) {
  const auto known = std::find_if(opened.begin(), opened.end(), [](const auto& token) {
    return token->info().transport == devices::Transport::yubikey_otp;
  });
  if (known == opened.end()) return;
  std::unique_ptr<devices::Token> kept = std::move(*known);
  for (auto& token : opened) {
    if (!token) continue;
    const std::string path = token->info().path;
    token.reset();
    release(path);
  }
  opened.clear();
  opened.push_back(std::move(kept));
}

Result<TokenBroker::Lease> TokenBroker::acquire(Interaction& io, const Usable& usable) {
  const auto deadline = std::chrono::steady_clock::now() + wait_;
  WatchScope watch(io, nullptr);     // a cancel while waiting for a token ends the wait
  std::optional<std::int64_t> told;  // the seconds left last told
  // The countdown: "insert-token" again whenever the whole seconds left change.
  const auto tell_remaining = [&] {
    const auto left = std::max<std::int64_t>(
        0, std::chrono::ceil<std::chrono::seconds>(deadline - std::chrono::steady_clock::now())
               .count());
    if (told == left) return;
    told = left;
    io.send_event("insert-token",
                  {{"timeout", std::chrono::duration_cast<std::chrono::seconds>(wait_).count()},
                   {"remaining", left}});
  };
  bool forbidden = false;  // a token was present that this user may not use
  std::chrono::steady_clock::time_point settling_until{};
  Error last{Code::no_token, "No security key was found. Insert your security key and try again."};
  while (true) {
    if (io.cancelled()) return Error{Code::cancelled, "Cancelled."};
    std::uint64_t seen = hotplug_.generation();  // before scanning: no change can slip by
    std::vector<devices::TokenInfo> candidates;
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
          busy_.insert(info.path);  // reserved while we open it
          candidates.push_back(info);
        }
      }
    }
    auto opened = open_all(candidates, last);
    if (opened.size() > 1) keep_one_known_by_serial(opened);
    if (opened.size() == 1) return Lease(this, std::move(opened.front()));
    if (opened.size() > 1) return select(std::move(opened), io, deadline);
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
    tell_remaining();
    // A device that just appeared may need a moment before it can be opened (a socket is
    // created by bind() before listen(); udev sets a node's permissions after creating it):
    // for a while after each change, rescan often.
    const auto now = std::chrono::steady_clock::now();
    const auto interval = now < settling_until ? kSettleRescan : kRescanInterval;
    const auto rescan_at = std::min(deadline, now + interval);
    while (std::chrono::steady_clock::now() < rescan_at && !io.cancelled()) {
      const std::uint64_t now_seen = hotplug_.wait(seen, kCancelPoll);
      if (now_seen != seen) {
        settling_until = std::chrono::steady_clock::now() + kSettleTime;
        break;
      }
      tell_remaining();
    }
  }
}

Result<TokenBroker::Lease> TokenBroker::select(std::vector<std::unique_ptr<devices::Token>> tokens,
                                               Interaction& io,
                                               std::chrono::steady_clock::time_point deadline) {
  const std::size_t n = tokens.size();
  io.send_event("select-token", {{"count", n}});
  const auto budget = std::max(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   deadline - std::chrono::steady_clock::now()),
                               std::chrono::milliseconds(1000));
  std::mutex m;
  std::condition_variable changed;
  std::vector<std::optional<Status>> results(n);
  std::optional<std::size_t> winner;
  std::vector<std::thread> waiters;
  for (std::size_t i = 0; i < n; ++i) {
    waiters.emplace_back([&, i] {
      Status s = tokens[i]->wait_for_touch(budget);
      std::lock_guard lock(m);
      if (s.ok() && !winner) winner = i;
      results[i] = std::move(s);
      changed.notify_all();
    });
  }
  const auto all_done = [&] {
    return std::all_of(results.begin(), results.end(), [](const auto& r) { return r.has_value(); });
  };
  {
    std::unique_lock lock(m);
    while (!winner && !all_done() && !io.cancelled()) {
      changed.wait_for(lock, std::chrono::milliseconds(100));
    }
    // Stop the others; a cancel can arrive before a token started waiting, so repeat it.
    while (!all_done()) {
      for (std::size_t i = 0; i < n; ++i) {
        if (!results[i] && (!winner || i != *winner)) tokens[i]->cancel();
      }
      changed.wait_for(lock, std::chrono::milliseconds(100));
    }
  }
  for (auto& t : waiters) t.join();
  std::optional<Lease> lease;
  Error first_error{Code::presence_timeout, "No security key was touched in time."};
  for (std::size_t i = 0; i < n; ++i) {
    if (winner && i == *winner) {
      lease.emplace(Lease(this, std::move(tokens[i])));
      continue;
    }
    if (!winner && results[i] && !results[i]->ok() && results[i]->code() != Code::cancelled &&
        first_error.code == Code::presence_timeout) {
      first_error = results[i]->error();
    }
    const std::string path = tokens[i]->info().path;
    tokens[i].reset();
    release(path);
  }
  if (lease) return std::move(*lease);
  if (io.cancelled()) return Error{Code::cancelled, "Cancelled."};
  return first_error;
}

}  // namespace touchpass::client
