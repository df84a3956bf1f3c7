// CeremonyTable: the enroll, issue, show and sign-in ceremonies touchpassd has begun and not yet
// finished (DESIGN.md §2). A ceremony is single-use (taking it removes it), expires, and may be
// finished only by the peer that began it (same uid and pid). The table is bounded per owner —
// a uid, or a web user through touchpass-web — and in total, so no local or web user can fill
// the daemon's memory or crowd out the others' ceremonies. A table of ceremonies that anyone
// may begin for anyone (web sign-in) instead replaces its oldest ceremony when full: a per-owner
// limit there would let a stranger block the owner.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/grant.h"
#include "core/status.h"
#include "store/records.h"

namespace touchpass::daemon {

// One credential a begun ceremony allows, and what its key was asked.
struct CeremonyCandidate {
  store::TokenRecord token;
  Grant grant;      // the grant as it will be (issue) or was (show) encoded with this credential
  Bytes challenge;  // FIDO2: the WebAuthn challenge (v2) or the raw clientDataHash (v1)
  Bytes next_challenge;  // YubiKey: the next rolling challenge
};

// What an enroll ceremony asked the key.
struct PendingEnrollment {
  TokenKind kind = TokenKind::fido2;
  std::string label;  // empty: a default one
  bool user_verification = true;
  Bytes challenge;  // FIDO2: the WebAuthn challenge of the client data
  YubiKeySlot slot = YubiKeySlot::two;
  Bytes rolling_challenge;  // YubiKey: the first rolling challenge
  std::string rp_id;        // FIDO2: the relying-party id the new credential is made for
  Bytes invitation_hash;    // through the web with an invitation: its code's hash (consumed)
  bool first_key = false;   // through the web with the account password: the user's first key
};

struct PendingCeremony {
  enum class Kind { issue, show, enroll, signin };
  Kind kind = Kind::issue;
  uid_t uid = static_cast<uid_t>(-1);  // the peer that began it
  pid_t pid = 0;
  std::string web_user;  // begun through touchpass-web for this user (its owner); empty: local
  std::string origin;    // FIDO2: the origin its client data must name
  bool session_bound = false;  // web: finished only with the session it was begun in
  std::string user;            // whose grant it issues or shows
  std::string name;            // the grant's name
  bool phone_setup = false;    // issue, show: keep the password for a phone (phone_setups.h)
  std::vector<std::string>
      networks;  // issue: where it may be used from (canonical; empty: anywhere)
  Bytes nonce;   // show: the nonce in the challenge (kept in the audit log)
  std::vector<CeremonyCandidate> candidates;  // issue, show, signin
  PendingEnrollment enrollment;               // enroll
};

class CeremonyTable {
 public:
  using SteadyClock = std::function<std::chrono::steady_clock::time_point()>;

  struct Limits {
    std::chrono::seconds lifetime{180};
    std::size_t per_uid = 4;  // 0: no limit per owner
    std::size_t total = 256;
    bool replace_oldest_when_full = false;  // instead of answering busy
  };

  explicit CeremonyTable(Limits limits, SteadyClock clock = std::chrono::steady_clock::now);

  // Stores `ceremony` under a fresh random id (ipc::kCeremonyIdBytes) and returns the id.
  // Expired ceremonies are dropped first. Errors: busy when its owner (uid and web user) already
  // has Limits::per_uid ceremonies open or the table is full (unless it replaces its oldest
  // ceremony then); internal without randomness.
  Result<Bytes> add(PendingCeremony ceremony);

  // Removes and returns the ceremony `id` if `uid`/`pid` began it and it has not expired.
  // Errors: not_found ("…has expired or was already finished; start again.") for an unknown,
  // expired or used id; permission_denied when another process began it (it stays usable by
  // its owner).
  Result<PendingCeremony> take(const Bytes& id, uid_t uid, pid_t pid);

  std::chrono::seconds lifetime() const { return limits_.lifetime; }

 private:
  struct Entry {
    PendingCeremony ceremony;
    std::chrono::steady_clock::time_point expires;
  };
  void drop_expired(std::chrono::steady_clock::time_point now);

  Limits limits_;
  SteadyClock clock_;
  std::mutex mu_;
  std::map<Bytes, Entry> open_;
};

}  // namespace touchpass::daemon
