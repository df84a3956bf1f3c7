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
#include "devices/catalog/catalog.h"

namespace touchpass::daemon {

using ipc::Json;

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
  auto hash = rolling_response_hash(pepper_.bytes(), response->bytes());
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

}  // namespace touchpass::daemon
