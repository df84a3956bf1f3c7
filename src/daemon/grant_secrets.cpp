#include "daemon/service.h"

#include "core/bytes.h"
#include "core/derivation.h"
#include "core/grant.h"
#include "core/password.h"
#include "core/random.h"
#include "core/rolling_challenge.h"
#include "core/verifier.h"
#include "daemon/log.h"
#include "daemon/service_support.h"

namespace touchpass::daemon {

using ipc::Json;

Result<store::TokenRecord> Service::token_for_issue(const std::string& user) {
  auto list = store_.list_tokens(user, false);
  if (!list.ok()) return list.error();
  if (list->empty()) {
    return Error{Code::not_found,
                 "You have no security key enrolled. Run `touchpass enroll` first."};
  }
  // The most recently enrolled key; a backup key is used by revoking the lost one.
  return std::move(list->back());
}

TokenBroker::Usable Service::usable_by(const Peer& peer, TokenKind kind,
                                       std::uint32_t serial) const {
  return [peer, kind, serial](const devices::TokenInfo& info) {
    const bool otp = info.transport == devices::Transport::yubikey_otp;
    if (otp != (kind == TokenKind::yubikey)) return false;
    if (otp) {
      // libykpers reaches keys through libusb and names no device node whose ACL (udev's
      // uaccess) could be checked: YubiKey OTP tokens serve root and the token group.
      if (serial != 0 && info.serial != serial) return false;
      return peer.token_user;
    }
    return may_access(peer, info.path, info.is_virtual() ? Access::write : Access::read_write);
  };
}

Result<devices::Assertion> Service::assert_for_grant(const Peer& peer,
                                                     const store::TokenRecord& record,
                                                     const Bytes& client_data_hash,
                                                     const Bytes& salt, Interaction& io) {
  auto lease = broker_.acquire(io, usable_by(peer, TokenKind::fido2));
  if (!lease.ok()) return lease.error();
  devices::Token& token = lease->token();
  devices::AssertRequest ar;
  ar.credential.rp_id = record.rp_id;
  ar.credential.id = record.credential;
  ar.credential.algorithm = record.algorithm;
  ar.credential.public_key = record.public_key;
  ar.credential.uv = uv_from_name(record.uv);
  ar.credential.sign_count = record.sign_count;
  ar.client_data_hash = client_data_hash;
  ar.salt = salt;
  ar.timeout = config_.token_timeout;
  ar.on_touch = [&] { io.send_event("touch-token", {{"step", 1}, {"steps", 1}}); };
  SecretBytes pin;
  if (ar.credential.uv == devices::UserVerification::pin) {
    auto got = ask_pin(token, io);
    if (!got.ok()) return got.error();
    pin = std::move(*got);
    ar.pin = &pin;
  }
  WatchScope watch(io, &token);
  return token.assert_hmac_secret(ar);
}

Result<Service::TokenSecret> Service::token_secret(const Peer& peer,
                                                   const store::TokenRecord& token,
                                                   const Grant& grant,
                                                   const Bytes& client_data_hash, Interaction& io) {
  if (token.kind == "yubikey") return yubikey_secret(peer, token, grant, io);
  // DESIGN.md §5 step 2: one assertion; S is the hmac-secret output for the grant's salt.
  auto salt = hmac_salt(grant.version, grant.grant_id);
  if (!salt.ok()) return salt.error();
  auto assertion =
      assert_for_grant(peer, token, client_data_hash, Bytes(salt->begin(), salt->end()), io);
  if (!assertion.ok()) return assertion.error();
  TokenSecret out{std::move(assertion->hmac_secret), assertion->sign_count,
                  std::move(assertion->auth_data), std::move(assertion->signature)};
  return out;
}

Result<Service::TokenSecret> Service::yubikey_secret(const Peer& peer,
                                                     const store::TokenRecord& token,
                                                     const Grant& grant, Interaction& io) {
  auto credential = parse_yubikey_credential(token.credential);
  if (!credential.ok()) return credential.error();
  auto lease = broker_.acquire(io, usable_by(peer, TokenKind::yubikey, credential->serial));
  if (!lease.ok()) return lease.error();
  devices::Token& key = lease->token();
  WatchScope watch(io, &key);
  int step = 0;
  const auto respond = [&](std::span<const std::uint8_t, 64> challenge) {
    ++step;
    return key.challenge_response(credential->slot, challenge, config_.token_timeout, [&] {
      io.send_event("touch-token", {{"step", step}, {"steps", 3}});
    });
  };
  // 1. Prove it is the enrolled key and slot: the rolling challenge (DESIGN.md §4.2).
  if (token.rolling_challenge.size() != 64) {
    return Error{Code::internal, "The enrolled YubiKey has no rolling challenge; re-enroll it."};
  }
  auto proof = respond(std::span<const std::uint8_t, 64>(token.rolling_challenge.data(), 64));
  if (!proof.ok()) return proof.error();
  if (!rolling_response_matches(pepper_.bytes(), proof->bytes(), token.rolling_hash)) {
    return Error{Code::verification_failed,
                 "This YubiKey does not answer as the one enrolled as \"" + token.label +
                     "\" (has slot " + std::to_string(static_cast<int>(credential->slot)) +
                     " been reprogrammed?)."};
  }
  // 2. S for the grant (DESIGN.md §5 step 3).
  auto challenge = yubikey_challenge(grant.version, grant.grant_id);
  if (!challenge.ok()) return challenge.error();
  auto s = respond(*challenge);
  if (!s.ok()) return s.error();
  // 3. The next rolling challenge and the keyed hash of its response.
  TokenSecret out{std::move(*s), 0, {}, {}};
  auto next_challenge = random_bytes(64);
  if (!next_challenge.ok()) return next_challenge.error();
  auto next = respond(std::span<const std::uint8_t, 64>(next_challenge->data(), 64));
  if (!next.ok()) return next.error();
  auto next_hash = rolling_response_hash(pepper_.bytes(), next->bytes());
  if (!next_hash.ok()) return next_hash.error();
  out.next.rolling_challenge = std::move(*next_challenge);
  out.next.rolling_hash = std::move(*next_hash);
  return out;
}

}  // namespace touchpass::daemon
