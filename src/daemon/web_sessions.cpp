#include "daemon/web_sessions.h"

#include <algorithm>

#include "core/crypto.h"
#include "core/random.h"

namespace touchpass::daemon {

namespace {

Error ended() {
  return Error{Code::not_found, "Your session has ended; sign in again."};
}

// The table's key for `token`; empty when hashing fails.
Bytes key_of(std::span<const std::uint8_t> token) {
  Bytes hash(32);
  if (!crypto::sha256({token}, hash).ok()) return {};
  return hash;
}

}  // namespace

WebSessions::WebSessions(Limits limits, Clock clock) : limits_(limits), clock_(std::move(clock)) {}

WebSession WebSessions::refreshed(WebSession session, store::UnixTime now) const {
  session.last_used = now;
  session.expires = std::min<store::UnixTime>(now + limits_.idle.count(),
                                              session.opened + limits_.longest.count());
  return session;
}

bool WebSessions::live(const WebSession& session, store::UnixTime now) const {
  return now < session.expires;
}

void WebSessions::drop_dead(store::UnixTime now) {
  std::erase_if(sessions_, [&](const auto& item) { return !live(item.second, now); });
}

Result<SecretBytes> WebSessions::open(const std::string& user) {
  SecretBytes token(kWebSessionTokenBytes);
  if (Status s = fill_random(std::span(token.data(), token.size())); !s.ok()) return s.error();
  Bytes key = key_of(token.bytes());
  if (key.empty()) return Error{Code::internal, "Could not hash a session token."};
  const store::UnixTime now = clock_();
  std::lock_guard lock(mu_);
  drop_dead(now);
  std::size_t mine = 0;
  auto oldest = sessions_.end();
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
    if (it->second.user != user) continue;
    ++mine;
    if (oldest == sessions_.end() || it->second.last_used < oldest->second.last_used) oldest = it;
  }
  if (mine >= limits_.per_user && oldest != sessions_.end()) {
    sessions_.erase(oldest);
  } else if (sessions_.size() >= limits_.total) {
    return Error{Code::busy, "Too many people are signed in right now; try again later."};
  }
  WebSession session;
  session.user = user;
  session.opened = now;
  sessions_.emplace(std::move(key), refreshed(std::move(session), now));
  return token;
}

Result<WebSession> WebSessions::use(std::span<const std::uint8_t> token) {
  if (token.size() != kWebSessionTokenBytes) return ended();
  const Bytes key = key_of(token);
  const store::UnixTime now = clock_();
  std::lock_guard lock(mu_);
  const auto it = sessions_.find(key);
  if (it == sessions_.end()) return ended();
  if (!live(it->second, now)) {
    sessions_.erase(it);
    return ended();
  }
  it->second = refreshed(std::move(it->second), now);
  return it->second;
}

void WebSessions::close(std::span<const std::uint8_t> token) {
  if (token.size() != kWebSessionTokenBytes) return;
  const Bytes key = key_of(token);
  std::lock_guard lock(mu_);
  sessions_.erase(key);
}

std::size_t WebSessions::close_all(const std::string& user) {
  std::lock_guard lock(mu_);
  return std::erase_if(sessions_, [&](const auto& item) { return item.second.user == user; });
}

std::size_t WebSessions::size() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

}  // namespace touchpass::daemon
