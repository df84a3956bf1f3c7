// WebSessions: who is signed in on touchpass-web (DESIGN.md §6). A session begins when
// touchpassd has verified a sign-in assertion (or an enrollment with an invitation) and is a
// 32-byte random token that only the client holds: touchpassd keeps its SHA-256, so a memory
// dump of the table opens nobody's session. Sessions are short (an idle limit and an absolute
// one), bounded per user and in total, and live in memory only: a restarted touchpassd signs
// everyone out. Thread-safe; the clock is given, so tests control time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <string>

#include "core/bytes.h"
#include "core/secret.h"
#include "core/status.h"
#include "store/records.h"

namespace touchpass::daemon {

inline constexpr std::size_t kWebSessionTokenBytes = 32;

struct WebSession {
  std::string user;
  store::UnixTime opened = 0;
  store::UnixTime last_used = 0;
  store::UnixTime expires = 0;  // the earlier of the idle and the absolute limit
};

class WebSessions {
 public:
  struct Limits {
    std::chrono::seconds idle{15 * 60};
    std::chrono::seconds longest{12 * 3600};
    std::size_t per_user = 16;
    std::size_t total = 4096;
  };
  using Clock = std::function<store::UnixTime()>;

  WebSessions(Limits limits, Clock clock);

  // Opens a session for `user` and returns its token (the only copy). A user at
  // Limits::per_user loses their least recently used session. Errors: busy when the table is
  // full of live sessions; internal without randomness.
  Result<SecretBytes> open(const std::string& user);

  // The live session of `token`, its idle time restarted. not_found ("Your session has ended;
  // sign in again.") for a token of the wrong size, unknown, idle too long or too old.
  Result<WebSession> use(std::span<const std::uint8_t> token);

  // Ends the session of `token`, if any.
  void close(std::span<const std::uint8_t> token);

  // Ends every session of `user`; returns how many.
  std::size_t close_all(const std::string& user);

  std::size_t size() const;

 private:
  WebSession refreshed(WebSession session, store::UnixTime now) const;
  bool live(const WebSession& session, store::UnixTime now) const;
  void drop_dead(store::UnixTime now);

  Limits limits_;
  Clock clock_;
  mutable std::mutex mu_;
  std::map<Bytes, WebSession> sessions_;  // by the SHA-256 of the token
};

}  // namespace touchpass::daemon
