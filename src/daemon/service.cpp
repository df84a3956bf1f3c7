#include "daemon/service.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <map>
#include <thread>

#include "core/bytes.h"
#include "core/crypto.h"
#include "core/derivation.h"
#include "core/grant.h"
#include "core/password.h"
#include "core/verifier.h"
#include "daemon/audit_anchor.h"
#include "daemon/log.h"
#include "devices/catalog/catalog.h"

namespace touchpass::daemon {

namespace {

using ipc::Json;

constexpr std::size_t kMaxLabelBytes = 64;

Result<Bytes> random_bytes(std::size_t n) {
  Bytes out(n);
  if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
    return Error{Code::internal, "The random number generator failed."};
  }
  return out;
}

Status validate_label(const std::string& label) {
  if (label.empty() || label.size() > kMaxLabelBytes) {
    return Status(Code::invalid_argument, "A token label must be 1 to 64 characters long.");
  }
  for (char ch : label) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      return Status(Code::invalid_argument, "A token label may not contain control characters.");
    }
  }
  return {};
}

// The longest prefix of `text` of at most `max` bytes that does not cut a UTF-8 sequence.
std::string utf8_prefix(const std::string& text, std::size_t max) {
  if (text.size() <= max) return text;
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

std::string uv_name(devices::UserVerification uv) {
  return uv == devices::UserVerification::pin ? "pin" : "presence";
}

devices::UserVerification uv_from_name(const std::string& name) {
  return name == "presence" ? devices::UserVerification::presence_only
                            : devices::UserVerification::pin;
}

Json token_json(const store::TokenRecord& t) {
  Json j = {{"id", t.id},
            {"user", t.user},
            {"label", t.label},
            {"kind", t.kind},
            {"device", t.device},
            {"virtual", t.is_virtual},
            {"uv", t.uv},
            {"aaguid", to_hex(t.aaguid)},
            {"attestation", t.attestation_format},
            {"created", t.created}};
  if (t.revoked) j["revoked"] = *t.revoked;
  return j;
}

Json grant_json(const store::GrantRecord& g, const std::string& token_label) {
  Json j = {{"grant_id", to_hex(g.grant_id)},
            {"user", g.user},
            {"name", g.name},
            {"scopes", g.scopes},
            {"created", g.created},
            {"expires", g.expires},
            {"token_id", g.token_id},
            {"token_label", token_label},
            {"kind", g.kind}};
  if (g.revoked) j["revoked"] = *g.revoked;
  if (g.last_used) {
    j["last_used"] = *g.last_used;
    j["last_service"] = g.last_service;
  }
  return j;
}

// The grant (DESIGN.md §5.1) a stored grant record was issued as.
Result<Grant> grant_of(const store::GrantRecord& record) {
  auto id = GrantId::from_bytes(record.grant_id);
  if (!id.ok()) return id.error();
  auto kind = token_kind_from_name(record.kind);
  if (!kind) return Error{Code::internal, "The stored grant has an unknown kind."};
  Grant g;
  g.grant_id = *id;
  g.user = record.user;
  g.name = record.name;
  g.scopes = record.scopes;
  g.created = static_cast<std::uint64_t>(record.created);
  g.expires = static_cast<std::uint64_t>(record.expires);
  g.kind = *kind;
  g.credential = record.credential;
  return g;
}

SecretBytes password_secret(const AppPassword& password) {
  return SecretBytes::copy_of(password.grouped());
}

}  // namespace

struct Service::Target {
  std::string user;        // the user acted on
  bool all_users = false;  // listings: everyone (admins only)
};

Service::Service(const Config& config, store::Store& store, TokenBroker& broker, Throttle& throttle,
                 RefusalLog& refusals, VerificationRecorder& recorder, SecretBytes pepper,
                 Clock clock, VerifyHandler::Sleep sleep)
    : config_(config),
      store_(store),
      broker_(broker),
      throttle_(throttle),
      refusals_(refusals),
      recorder_(recorder),
      pepper_(std::move(pepper)),
      clock_(clock),
      verify_(store, throttle, refusals, recorder, pepper_,
              VerifyHandler::Settings{config.ipv6_prefix, config.service_group}, clock,
              std::move(sleep)) {}

store::AuditEvent Service::audit(const Peer& peer, std::string action, const std::string& user,
                                 std::string object) const {
  store::AuditEvent e;
  e.time = clock_();
  e.actor_uid = static_cast<std::int64_t>(peer.uid);
  e.actor = peer.user;
  e.action = std::move(action);
  e.user = user;
  e.object = std::move(object);
  e.result = "ok";
  return e;
}

Error Service::audited_failure(const Peer& peer, const std::string& action, const std::string& user,
                               const std::string& object, Error error) {
  store::AuditEvent e = audit(peer, action, user, object);
  e.result = std::string(code_name(error.code));
  e.detail = error.message;
  (void)store_.append_audit(e);  // the request fails either way; the store logs its own errors
  return error;
}

Result<Service::Target> Service::target_of(const Peer& peer, const ipc::Request& request) {
  Target target{request.user.value_or(peer.user), request.all_users};
  if ((target.user != peer.user || target.all_users) && !peer.admin) {
    // Counted, not written one by one: a user repeating this cannot fill the disk.
    refusals_.refused({static_cast<std::int64_t>(peer.uid), peer.user}, "refuse", target.user,
                      std::string(ipc::op_name(request.op)), "uid " + std::to_string(peer.uid),
                      "not a member of the group \"" + config_.admin_group + "\"", clock_());
    return Error{Code::permission_denied, "Only root and members of the group \"" +
                                              config_.admin_group +
                                              "\" may act on other users' tokens and passwords."};
  }
  return target;
}

Result<Outcome> Service::handle(const Peer& peer, const ipc::Request& request, Interaction& io,
                                const SecretBytes& secret) {
  if (request.op == ipc::Op::devices) return devices();
  if (request.op == ipc::Op::pin || request.op == ipc::Op::cancel) {
    return Error{Code::protocol_error, "There is no operation in progress to send that to."};
  }
  if (request.op == ipc::Op::verify) {
    Status verdict = verify_.verify(peer, request, secret);
    if (!verdict.ok()) return verdict.error();
    return Outcome{};
  }
  if (request.op == ipc::Op::unlock) return unlock(peer, request);
  auto target = target_of(peer, request);
  if (!target.ok()) return target.error();
  switch (request.op) {
    case ipc::Op::enroll:
      return enroll(peer, *target, request, io);
    case ipc::Op::tokens:
      return tokens(*target);
    case ipc::Op::issue:
      return issue(peer, *target, request, io);
    case ipc::Op::show:
      return show(peer, *target, request, io);
    case ipc::Op::list:
      return list(*target);
    case ipc::Op::revoke:
      return revoke(peer, *target, request);
    case ipc::Op::rename:
      return rename(peer, *target, request);
    case ipc::Op::log:
      return log(*target, request);
    default:
      return Error{Code::protocol_error, "Unsupported operation."};
  }
}

Result<Outcome> Service::devices() {
  auto present = broker_.present();
  if (!present.ok()) return present.error();
  Json list = Json::array();
  for (const auto& d : *present) {
    const bool otp = d.transport == devices::Transport::yubikey_otp;
    Json device = {{"path", d.path},
                   {"product", d.product},
                   {"manufacturer", d.manufacturer},
                   {"vendor_id", d.vendor_id},
                   {"product_id", d.product_id},
                   {"kind", otp ? "yubikey" : "fido2"},
                   {"virtual", d.is_virtual()}};
    // The model, from the device catalog (devices/catalog/tokens.json).
    if (const auto* known = devices::catalog::find_token(d.vendor_id, d.product_id)) {
      device["model"] = std::string(known->vendor) + " " + std::string(known->product);
    }
    if (otp) {
      device["serial"] = d.serial;
      device["firmware"] = d.firmware.to_string();
      if (auto status = broker_.otp_status(d); status.ok()) {
        Json slots = Json::array();
        for (std::size_t i = 0; i < status->slots.size(); ++i) {
          slots.push_back({{"slot", i + 1}, {"programmed", status->slots[i].programmed}});
        }
        device["slots"] = slots;
      }
    }
    list.push_back(std::move(device));
  }
  return Outcome{{{"devices", list}}, {}};
}

Result<SecretBytes> Service::ask_pin(devices::Token& token, Interaction& io) {
  auto retries = token.pin_retries();
  if (!retries.ok()) return retries.error();
  if (*retries == 0) {
    return Error{Code::pin_blocked,
                 "The PIN of this security key is blocked; the key must be reset."};
  }
  io.send_event("need-pin", {{"retries", *retries}});
  return io.receive_pin(config_.pin_timeout);
}

Result<Outcome> Service::enroll(const Peer& peer, const Target& target, const ipc::Request& request,
                                Interaction& io) {
  if (request.kind == "yubikey") return enroll_yubikey(peer, target, request, io);
  const std::string uv = request.uv.value_or("pin");
  const auto fail = [&](Error e) {
    return audited_failure(peer, "enroll", target.user, request.label, std::move(e));
  };
  if (uv == "presence" && config_.uv == UvPolicy::required) {
    return fail(Error{Code::invalid_argument,
                      "This system requires a PIN for every security key (uv = required in "
                      "touchpassd.conf); enroll without --no-pin."});
  }
  if (!request.label.empty()) {
    if (Status s = validate_label(request.label); !s.ok()) return fail(s.error());
  }
  auto lease = broker_.acquire(io, usable_by(peer, TokenKind::fido2));
  if (!lease.ok()) return fail(lease.error());
  devices::Token& token = lease->token();
  auto caps = token.capabilities();
  if (!caps.ok()) return fail(caps.error());

  SecretBytes pin;
  if (caps->client_pin && !caps->pin_set && uv == "pin") {
    io.send_event("need-new-pin", {{"min_length", 4}});
    auto new_pin = io.receive_pin(config_.pin_timeout);
    if (!new_pin.ok()) return fail(new_pin.error());
    if (Status s = token.set_pin(*new_pin); !s.ok()) return fail(s.error());
    pin = std::move(*new_pin);
  } else if (caps->pin_set) {
    auto got = ask_pin(token, io);
    if (!got.ok()) return fail(got.error());
    pin = std::move(*got);
  }

  auto user_id = random_bytes(16);
  auto challenge = random_bytes(32);
  if (!user_id.ok() || !challenge.ok()) return fail(Error{Code::internal, "No randomness."});
  int step = 0;
  devices::EnrollRequest er;
  er.rp_id = config_.rp_id;
  er.rp_name = "touchpass";
  er.user_id = *user_id;
  er.user_name = target.user;
  er.client_data_hash = *challenge;
  er.uv = uv_from_name(uv);
  er.pin = pin.empty() ? nullptr : &pin;
  er.timeout = config_.token_timeout;
  er.on_touch = [&] { io.send_event("touch-token", {{"step", ++step}, {"steps", 2}}); };
  Result<devices::Enrollment> enrolled = [&] {
    WatchScope watch(io, &token);
    return token.enroll(er);
  }();
  if (!enrolled.ok()) return fail(enrolled.error());

  store::TokenRecord record;
  record.user = target.user;
  record.kind = "fido2";
  record.credential = enrolled->credential.id;
  record.rp_id = enrolled->credential.rp_id;
  record.algorithm = enrolled->credential.algorithm;
  record.public_key = enrolled->credential.public_key;
  record.uv = uv_name(enrolled->credential.uv);
  record.sign_count = enrolled->credential.sign_count;
  record.aaguid = enrolled->aaguid;
  record.attestation_format = enrolled->attestation_format;
  if (!enrolled->x5c.empty()) record.attestation_x5c = enrolled->x5c.front();
  const auto& info = token.info();
  record.device = info.product.empty() ? "security key" : info.product;
  record.is_virtual = info.is_virtual();
  record.created = clock_();

  // A label the user gave must be free; a default one gets a number when taken.
  auto existing = store_.list_tokens(target.user, false);
  if (!existing.ok()) return fail(existing.error());
  const auto taken = [&](const std::string& l) {
    return std::any_of(existing->begin(), existing->end(),
                       [&](const store::TokenRecord& t) { return t.label == l; });
  };
  if (!request.label.empty()) {
    record.label = request.label;
  } else {
    const std::string base = utf8_prefix(record.device, kMaxLabelBytes - 4);
    record.label = base;
    for (int n = 2; taken(record.label); ++n) record.label = base + " " + std::to_string(n);
  }
  auto id = store_.add_token(record, audit(peer, "enroll", target.user, record.label));
  if (!id.ok()) return fail(id.error());
  record.id = *id;
  return Outcome{{{"token", token_json(record)}}, {}};
}

Result<Outcome> Service::enroll_yubikey(const Peer& peer, const Target& target,
                                        const ipc::Request& request, Interaction& io) {
  const auto fail = [&](Error e) {
    return audited_failure(peer, "enroll", target.user, request.label, std::move(e));
  };
  if (!request.label.empty()) {
    if (Status s = validate_label(request.label); !s.ok()) return fail(s.error());
  }
  const YubiKeySlot slot = request.slot == 1 ? YubiKeySlot::one : YubiKeySlot::two;
  const int slot_number = request.slot == 1 ? 1 : 2;
  auto lease = broker_.acquire(io, usable_by(peer, TokenKind::yubikey));
  if (!lease.ok()) return fail(lease.error());
  devices::Token& key = lease->token();
  auto status = key.otp_status();
  if (!status.ok()) return fail(status.error());
  if (status->serial == 0) {
    return fail(Error{Code::capability_missing,
                      "This YubiKey does not reveal its serial number, which touchpass needs to "
                      "tell keys apart; enable it with the YubiKey Manager (serial visible over "
                      "the API)."});
  }
  if (request.program) {
    // A fresh random key that requires a touch; it never leaves the daemon's memory, which is
    // wiped at once (YubiKeyToken::program_challenge_response).
    if (Status s = key.program_challenge_response(slot, /*require_touch=*/true, request.force);
        !s.ok()) {
      return fail(s.error());
    }
  } else if (!status->slot(slot).programmed) {
    return fail(Error{Code::not_found,
                      "Slot " + std::to_string(slot_number) +
                          " of this YubiKey is not programmed for challenge-response; program it "
                          "with `touchpass enroll --kind yubikey --program`."});
  }
  // The first rolling challenge, which also proves that the slot answers.
  auto challenge = random_bytes(64);
  if (!challenge.ok()) return fail(challenge.error());
  Result<SecretBytes> response = [&] {
    WatchScope watch(io, &key);
    return key.challenge_response(slot, std::span<const std::uint8_t, 64>(challenge->data(), 64),
                                  config_.token_timeout, [&] {
                                    io.send_event("touch-token", {{"step", 1}, {"steps", 1}});
                                  });
  }();
  if (!response.ok()) return fail(response.error());
  auto hash = rolling_hash(response->bytes());
  if (!hash.ok()) return fail(hash.error());

  store::TokenRecord record;
  record.user = target.user;
  record.kind = "yubikey";
  record.credential = encode_yubikey_credential({status->serial, slot});
  record.uv = "presence";
  record.attestation_format = "none";
  record.device = "YubiKey " + status->firmware.to_string() + " #" +
                  std::to_string(status->serial) + " slot " + std::to_string(slot_number);
  record.created = clock_();
  record.rolling_challenge = std::move(*challenge);
  record.rolling_hash = std::move(*hash);
  record.label = request.label.empty() ? "YubiKey " + std::to_string(status->serial) + " slot " +
                                             std::to_string(slot_number)
                                       : request.label;
  auto id = store_.add_token(record, audit(peer, "enroll", target.user, record.label));
  if (!id.ok()) return fail(id.error());
  record.id = *id;
  return Outcome{{{"token", token_json(record)}}, {}};
}

Result<Outcome> Service::tokens(const Target& target) {
  auto list = store_.list_tokens(target.all_users ? "" : target.user, false);
  if (!list.ok()) return list.error();
  Json out = Json::array();
  for (const auto& t : *list) out.push_back(token_json(t));
  return Outcome{{{"tokens", out}}, {}};
}

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

Result<Bytes> Service::rolling_hash(std::span<const std::uint8_t> response) const {
  // The keyed hash of a rolling response: HMAC-SHA-256(pepper, label || response).
  static constexpr std::string_view kLabel = "touchpass/v1/rolling";
  SecretBytes message(kLabel.size() + response.size());
  std::copy(kLabel.begin(), kLabel.end(), message.data());
  std::copy(response.begin(), response.end(), message.data() + kLabel.size());
  Bytes out(32);
  if (Status s = crypto::hmac_sha256(pepper_.bytes(), message.bytes(), out); !s.ok()) {
    return s.error();
  }
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
  auto expected = rolling_hash(proof->bytes());
  if (!expected.ok()) return expected.error();
  if (expected->size() != token.rolling_hash.size() ||
      CRYPTO_memcmp(expected->data(), token.rolling_hash.data(), expected->size()) != 0) {
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
  auto next_hash = rolling_hash(next->bytes());
  if (!next_hash.ok()) return next_hash.error();
  out.next.rolling_challenge = std::move(*next_challenge);
  out.next.rolling_hash = std::move(*next_hash);
  return out;
}

Result<Outcome> Service::issue(const Peer& peer, const Target& target, const ipc::Request& request,
                               Interaction& io) {
  const auto fail = [&](Error e) {
    return audited_failure(peer, "issue", target.user, request.name, std::move(e));
  };
  auto token = token_for_issue(target.user);
  if (!token.ok()) return fail(token.error());
  auto grant_id_bytes = random_bytes(GrantId::kSize);
  if (!grant_id_bytes.ok()) return fail(grant_id_bytes.error());
  auto grant_id = GrantId::from_bytes(*grant_id_bytes);
  if (!grant_id.ok()) return fail(grant_id.error());

  const store::UnixTime now = clock_();
  if (request.expires != 0 && request.expires <= now) {
    return fail(Error{Code::invalid_argument, "The expiry date is in the past."});
  }
  Grant grant;
  grant.grant_id = *grant_id;
  grant.user = target.user;
  grant.name = request.name;
  grant.scopes = request.scopes;
  grant.created = static_cast<std::uint64_t>(now);
  grant.expires = static_cast<std::uint64_t>(request.expires);
  grant.kind = token->kind == "yubikey" ? TokenKind::yubikey : TokenKind::fido2;
  grant.credential = token->credential;
  if (Status s = validate_grant(grant); !s.ok()) return fail(s.error());
  if (store_.find_grant(target.user, request.name).ok()) {
    return fail(Error{Code::invalid_argument, "An app password named \"" + request.name +
                                                  "\" already exists; choose another name or "
                                                  "revoke the old one first."});
  }

  auto cdh = grant_challenge(grant.version, encode_grant(grant));
  if (!cdh.ok()) return fail(cdh.error());
  auto secret = token_secret(peer, *token, grant, Bytes(cdh->begin(), cdh->end()), io);
  if (!secret.ok()) return fail(secret.error());
  auto password = derive_app_password(grant.version, secret->s.bytes(), grant.grant_id);
  if (!password.ok()) return fail(password.error());
  auto verifier = verifier_for_typed_password(pepper_.bytes(), password->grouped());
  if (!verifier.ok()) return fail(verifier.error());

  store::GrantRecord record;
  record.grant_id = *grant_id_bytes;
  record.user = grant.user;
  record.name = grant.name;
  record.scopes = canonical_scopes(grant.scopes);
  record.created = now;
  record.expires = request.expires;
  record.token_id = token->id;
  record.kind = token->kind;
  record.credential = grant.credential;
  record.verifier = Bytes(verifier->bytes().begin(), verifier->bytes().end());
  record.proof_auth_data = secret->proof_auth_data;
  record.proof_signature = secret->proof_signature;
  store::AuditEvent event = audit(peer, "issue", target.user, request.name);
  event.detail = "grant " + to_hex(record.grant_id);
  if (!record.proof_signature.empty()) event.detail += " proof " + to_hex(record.proof_signature);
  if (Status s = store_.add_grant(record, secret->next, event); !s.ok()) {
    return fail(s.error());
  }
  return Outcome{{{"grant", grant_json(record, token->label)}}, password_secret(*password)};
}

Result<Outcome> Service::show(const Peer& peer, const Target& target, const ipc::Request& request,
                              Interaction& io) {
  const auto fail = [&](Error e) {
    return audited_failure(peer, "show", target.user, request.name, std::move(e));
  };
  auto record = store_.find_grant(target.user, request.name);
  if (!record.ok()) return fail(record.error());
  auto token = store_.get_token(record->token_id);
  if (!token.ok()) return fail(token.error());
  if (token->revoked) {
    return fail(Error{Code::not_found, "The security key of \"" + request.name +
                                           "\" has been revoked; issue a new password."});
  }
  auto grant = grant_of(*record);
  if (!grant.ok()) return fail(grant.error());
  auto nonce = random_bytes(kShowNonceMinBytes);
  if (!nonce.ok()) return fail(nonce.error());
  auto cdh = show_challenge(grant->version, encode_grant(*grant), *nonce);
  if (!cdh.ok()) return fail(cdh.error());
  auto secret = token_secret(peer, *token, *grant, Bytes(cdh->begin(), cdh->end()), io);
  if (!secret.ok()) return fail(secret.error());
  auto password = derive_app_password(grant->version, secret->s.bytes(), grant->grant_id);
  if (!password.ok()) return fail(password.error());
  auto verifier = verifier_for_typed_password(pepper_.bytes(), password->grouped());
  auto stored = Verifier::from_bytes(record->verifier);
  if (!verifier.ok() || !stored.ok() || !(*verifier == *stored)) {
    return fail(Error{Code::verification_failed,
                      "This security key gives a different password for \"" + request.name +
                          "\". Is it the key the password was issued with?"});
  }
  if (Status s = store_.update_token_state(token->id, secret->next,
                                           audit(peer, "show", target.user, request.name));
      !s.ok()) {
    return fail(s.error());
  }
  return Outcome{{{"grant", grant_json(*record, token->label)}}, password_secret(*password)};
}

Result<Outcome> Service::list(const Target& target) {
  const std::string user = target.all_users ? "" : target.user;
  auto grants = store_.list_grants(user, false);
  if (!grants.ok()) return grants.error();
  auto tokens = store_.list_tokens(user, true);
  if (!tokens.ok()) return tokens.error();
  std::map<std::int64_t, std::string> labels;
  for (const auto& t : *tokens) labels[t.id] = t.label;
  Json out = Json::array();
  for (const auto& g : *grants) out.push_back(grant_json(g, labels[g.token_id]));
  // Brute-force protection as it stands for this user (every user's locks for all_users).
  const store::UnixTime now = clock_();
  Json locked = Json::array();
  for (const Throttle::SourceState& s : throttle_.locked(user, now)) {
    locked.push_back({{"source", s.source},
                      {"failures", s.failures},
                      {"locked_until", s.locked_until},
                      {"users", s.users}});
  }
  Json throttle = {{"locked_sources", locked}};
  if (!user.empty()) throttle["recent_failures"] = throttle_.user_failures(user, now);
  return Outcome{{{"grants", out}, {"throttle", throttle}}, {}};
}

Result<Outcome> Service::unlock(const Peer& peer, const ipc::Request& request) {
  const std::string what = request.all               ? std::string("--all")
                           : !request.source.empty() ? "--source " + request.source
                                                     : "--user " + request.user.value_or("");
  if (!peer.admin) {
    refusals_.refused({static_cast<std::int64_t>(peer.uid), peer.user}, "refuse",
                      request.user.value_or(""), "unlock", "uid " + std::to_string(peer.uid),
                      "not a member of the group \"" + config_.admin_group + "\"", clock_());
    return Error{Code::permission_denied, "Only root and members of the group \"" +
                                              config_.admin_group + "\" may unlock sources."};
  }
  const int unlocked = throttle_.unlock(request.source, request.user.value_or(""));
  recorder_.flush();  // the store forgets the locks now, not at the next batch
  store::AuditEvent e = audit(peer, "unlock", request.user.value_or(""), what);
  e.detail = std::to_string(unlocked) + (unlocked == 1 ? " source" : " sources") + " unlocked";
  if (Status s = store_.append_audit(e); !s.ok()) return s.error();
  return Outcome{{{"unlocked", unlocked}}, {}};
}

Result<Outcome> Service::revoke(const Peer& peer, const Target& target,
                                const ipc::Request& request) {
  const store::UnixTime now = clock_();
  if (!request.token.empty()) {
    // A lost or retired key: the key and every password derived from it stop working.
    auto tokens = store_.list_tokens(target.user, false);
    if (!tokens.ok()) return tokens.error();
    const auto it = std::find_if(tokens->begin(), tokens->end(), [&](const store::TokenRecord& t) {
      return t.label == request.token;
    });
    if (it == tokens->end()) {
      return audited_failure(
          peer, "revoke-token", target.user, request.token,
          Error{Code::not_found, "There is no enrolled token labelled \"" + request.token + "\"."});
    }
    const auto grants = store_.list_grants(target.user, false);
    const auto derived =
        grants.ok()
            ? std::count_if(grants->begin(), grants->end(),
                            [&](const store::GrantRecord& g) { return g.token_id == it->id; })
            : 0;
    if (Status s = store_.revoke_token(it->id, now,
                                       audit(peer, "revoke-token", target.user, request.token));
        !s.ok()) {
      return audited_failure(peer, "revoke-token", target.user, request.token, s.error());
    }
    return Outcome{{{"revoked", derived}, {"token", request.token}}, {}};
  }
  if (request.all) {
    auto n =
        store_.revoke_all_grants(target.user, now, audit(peer, "revoke", target.user, "--all"));
    if (!n.ok()) return audited_failure(peer, "revoke", target.user, "--all", n.error());
    return Outcome{{{"revoked", *n}}, {}};
  }
  if (Status s = store_.revoke_grant(target.user, request.name, now,
                                     audit(peer, "revoke", target.user, request.name));
      !s.ok()) {
    return audited_failure(peer, "revoke", target.user, request.name, s.error());
  }
  return Outcome{{{"revoked", 1}}, {}};
}

Result<Outcome> Service::rename(const Peer& peer, const Target& target,
                                const ipc::Request& request) {
  // Validate the new name with the grant rules (a placeholder grant carries it).
  Grant probe;
  probe.grant_id = GrantId(std::array<std::uint8_t, GrantId::kSize>{1});
  probe.user = target.user;
  probe.name = request.new_name;
  probe.credential = Bytes{1};
  if (Status s = validate_grant(probe); !s.ok()) {
    return audited_failure(peer, "rename", target.user, request.name, s.error());
  }
  store::AuditEvent event = audit(peer, "rename", target.user, request.name);
  event.detail = "to " + request.new_name;
  if (Status s = store_.rename_grant(target.user, request.name, request.new_name, event); !s.ok()) {
    return audited_failure(peer, "rename", target.user, request.name, s.error());
  }
  return Outcome{};
}

Result<Outcome> Service::log(const Target& target, const ipc::Request& request) {
  recorder_.flush();  // refusals and lockouts of the last seconds are part of the log
  auto entries = store_.list_audit(target.all_users ? "" : target.user, request.limit);
  if (!entries.ok()) return entries.error();
  Json out = Json::array();
  for (const auto& e : *entries) {
    out.push_back({{"seq", e.seq},
                   {"time", e.event.time},
                   {"actor_uid", e.event.actor_uid},
                   {"actor", e.event.actor},
                   {"action", e.event.action},
                   {"user", e.event.user},
                   {"object", e.event.object},
                   {"result", e.event.result},
                   {"detail", e.event.detail},
                   {"hash", to_hex(e.hash)}});
  }
  Json result = {{"entries", out}};
  if (request.verify_chain) {
    // The anchor outside the database tells entries removed from the log's end.
    auto anchored = AuditAnchor(config_.audit_anchor_path()).load();
    Status s = anchored.ok() ? store_.verify_audit(*anchored) : Status(anchored.error());
    result["chain_ok"] = s.ok();
    if (!s.ok()) result["chain_error"] = std::string(s.message());
  }
  return Outcome{std::move(result), {}};
}

}  // namespace touchpass::daemon
