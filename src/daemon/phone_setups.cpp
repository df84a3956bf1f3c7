#include "daemon/phone_setups.h"

#include <algorithm>

#include "core/crypto.h"
#include "core/random.h"

namespace touchpass::daemon {

namespace {

Error gone() {
  return Error{Code::not_found,
               "This setup link has been used or has expired. Make a new one on the computer "
               "with `touchpass show NAME --phone` (or Show on the touchpass page)."};
}

// The table's key for `token`; empty when hashing fails.
Bytes key_of(std::span<const std::uint8_t> token) {
  Bytes hash(32);
  if (!crypto::sha256({token}, hash).ok()) return {};
  return hash;
}

}  // namespace

PhoneSetups::PhoneSetups(Limits limits, Clock clock) : limits_(limits), clock_(std::move(clock)) {}

void PhoneSetups::drop_expired(store::UnixTime now) {
  std::erase_if(setups_, [&](const auto& item) { return item.second.expires <= now; });
}

Result<SecretBytes> PhoneSetups::add(PhoneSetup setup) {
  SecretBytes token(kPhoneSetupTokenBytes);
  if (Status s = fill_random(std::span(token.data(), token.size())); !s.ok()) return s.error();
  Bytes key = key_of(token.bytes());
  if (key.empty()) return Error{Code::internal, "Could not hash a setup token."};
  const store::UnixTime now = clock_();
  std::lock_guard lock(mu_);
  drop_expired(now);
  std::size_t mine = 0;
  auto oldest = setups_.end();
  for (auto it = setups_.begin(); it != setups_.end(); ++it) {
    if (it->second.user != setup.user) continue;
    ++mine;
    if (oldest == setups_.end() || it->second.expires < oldest->second.expires) oldest = it;
  }
  if (mine >= limits_.per_user && oldest != setups_.end()) {
    setups_.erase(oldest);
  } else if (setups_.size() >= limits_.total) {
    return Error{Code::busy, "Too many phone setups are waiting right now; try again later."};
  }
  setup.expires = now + limits_.lifetime.count();
  setups_.emplace(std::move(key), std::move(setup));
  return token;
}

Result<PhoneSetup> PhoneSetups::take(std::span<const std::uint8_t> token) {
  if (token.size() != kPhoneSetupTokenBytes) return gone();
  const Bytes key = key_of(token);
  const store::UnixTime now = clock_();
  std::lock_guard lock(mu_);
  const auto it = setups_.find(key);
  if (it == setups_.end()) return gone();
  PhoneSetup setup = std::move(it->second);
  setups_.erase(it);
  if (setup.expires <= now) return gone();
  return setup;
}

std::size_t PhoneSetups::forget(const std::string& user, const std::string& name) {
  std::lock_guard lock(mu_);
  return std::erase_if(setups_, [&](const auto& item) {
    return item.second.user == user && (name.empty() || item.second.name == name);
  });
}

std::size_t PhoneSetups::size() const {
  std::lock_guard lock(mu_);
  return setups_.size();
}

}  // namespace touchpass::daemon
