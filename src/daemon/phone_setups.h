// PhoneSetups: app passwords waiting for a phone to fetch them (issue and show with
// `phone_setup`). The client shows a QR code of a link to touchpass-web holding a 32-byte random
// token; the phone opens it, and touchpass-web takes the password once, with the token, to build
// the phone's mail settings (an Apple configuration profile, or the settings to type). A setup is
// single-use and short-lived, bounded per user and in total, and lives in memory only (a
// restarted touchpassd forgets them: `touchpass show` makes a new one). touchpassd keeps the
// SHA-256 of the token, never the token. Thread-safe; the clock is given, so tests control time.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/secret.h"
#include "core/status.h"
#include "store/records.h"

namespace touchpass::daemon {

inline constexpr std::size_t kPhoneSetupTokenBytes = 32;

// What a phone receives: whose password, its name and services, and the password itself.
struct PhoneSetup {
  std::string user;
  std::string name;
  std::vector<std::string> scopes;  // empty: every service
  SecretBytes password;
  store::UnixTime expires = 0;
};

class PhoneSetups {
 public:
  struct Limits {
    std::chrono::seconds lifetime{10 * 60};
    std::size_t per_user = 4;
    std::size_t total = 256;
  };
  using Clock = std::function<store::UnixTime()>;

  PhoneSetups(Limits limits, Clock clock);

  // Keeps `setup` (its `expires` set here) and returns its token (the only copy) and when it
  // expires. A user at Limits::per_user loses their oldest setup. Errors: busy when the table is
  // full of live setups; internal without randomness.
  Result<SecretBytes> add(PhoneSetup setup);

  // Takes the setup of `token` out of the table: it can be taken once. not_found (a sentence
  // saying that the link has been used or has expired) for a token of the wrong size, unknown
  // or expired.
  Result<PhoneSetup> take(std::span<const std::uint8_t> token);

  // Forgets every setup of `user` and, when `name` is given, only that password's; returns how
  // many (revoking a password ends its pending setups).
  std::size_t forget(const std::string& user, const std::string& name = "");

  std::size_t size() const;
  std::chrono::seconds lifetime() const { return limits_.lifetime; }

 private:
  void drop_expired(store::UnixTime now);

  Limits limits_;
  Clock clock_;
  mutable std::mutex mu_;
  std::map<Bytes, PhoneSetup> setups_;  // by the SHA-256 of the token
};

}  // namespace touchpass::daemon
