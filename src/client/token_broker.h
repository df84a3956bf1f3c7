// TokenBroker: hands out present tokens to requests, one request per token at a time, waiting
// (and telling the client "insert-token") when none is free. Requests that do not need a
// token never wait here, so verification and listings are served while a token waits for a
// touch.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "client/interaction.h"
#include "devices/hotplug/hotplug.h"
#include "devices/token.h"

namespace touchpass::client {

class TokenBroker {
 public:
  // `discovery` and `hotplug` must outlive the broker.
  TokenBroker(devices::Discovery& discovery, const devices::Hotplug& hotplug,
              std::chrono::seconds wait);

  // An opened token, exclusively the holder's until the lease is destroyed.
  class Lease {
   public:
    Lease(Lease&&) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    devices::Token& token() { return *token_; }

   private:
    friend class TokenBroker;
    Lease(TokenBroker* broker, std::unique_ptr<devices::Token> token);
    TokenBroker* broker_;
    std::unique_ptr<devices::Token> token_;
  };

  // Which present tokens the requesting user may use.
  using Usable = std::function<bool(const devices::TokenInfo&)>;

  // Leases a present token that is `usable` and that no other request holds. When there is
  // none, sends `insert-token` with the whole seconds left ("remaining") each time they change
  // and keeps looking until the wait runs out (no_token, or
  // permission_denied when only unusable tokens were present) or the client cancels
  // (cancelled). When there are several, and one of them is a YubiKey's OTP application, that
  // one is leased (the first listed): `usable` accepted it by its serial, and an OTP application
  // cannot be chosen by touch. Otherwise, with several, sends `select-token` and leases the one
  // the user touches first (no PIN is sent and no credential created to find out).
  Result<Lease> acquire(Interaction& io, const Usable& usable);

  // The tokens present now (for `touchpass devices`).
  Result<std::vector<devices::TokenInfo>> present();
  // A present YubiKey's OTP status; not while another request holds it (Code::cancelled).
  Result<devices::OtpStatus> otp_status(const devices::TokenInfo& info);

 private:
  void release(const std::string& path);
  // Opens every candidate (outside the lock; they are reserved) and keeps those that open.
  std::vector<std::unique_ptr<devices::Token>> open_all(
      const std::vector<devices::TokenInfo>& candidates, Error& last);
  // When `opened` holds a YubiKey OTP application, keeps only the first one and releases the
  // rest.
  void keep_one_known_by_serial(std::vector<std::unique_ptr<devices::Token>>& opened);
  // Touch to select among `tokens` (at least two); the rest are closed and released.
  Result<Lease> select(std::vector<std::unique_ptr<devices::Token>> tokens, Interaction& io,
                       std::chrono::steady_clock::time_point deadline);

  devices::Discovery& discovery_;
  const devices::Hotplug& hotplug_;
  std::chrono::seconds wait_;
  std::mutex mu_;               // guards discovery_ and busy_
  std::set<std::string> busy_;  // paths of leased tokens
};

}  // namespace touchpass::client
