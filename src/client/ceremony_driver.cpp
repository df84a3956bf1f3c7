#include "client/ceremony_driver.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>
#include <vector>

#include "client/key_discovery.h"
#include "core/client_data.h"
#include "core/grant.h"

namespace touchpass::client {

namespace {

using devices::Token;

constexpr int kMaxPinAttempts = 8;  // a key blocks its PIN sooner

devices::Credential credential_of(const ipc::OfferedCredential& c) {
  devices::Credential out;
  out.rp_id = c.rp_id;
  out.id = c.credential;
  out.algorithm = devices::kCoseEs256;
  out.public_key = c.public_key;
  out.uv = c.user_verification ? devices::UserVerification::pin
                               : devices::UserVerification::presence_only;
  out.sign_count = c.sign_count;
  return out;
}

Error no_application(const Token& token) {
  return Error{Code::capability_missing,
               "The security key \"" + token.info().product +
                   "\" has neither a FIDO2 application nor a YubiKey OTP application that "
                   "touchpass can use."};
}

Error not_held() {
  return Error{Code::no_credentials,
               "This security key does not hold any of your enrolled credentials: it is "
               "probably another key. Use the key you enrolled (`touchpass tokens` lists them)."};
}

// Asks for the PIN; the tries left are told once the key has said them (after a wrong PIN).
// Nothing is asked of the key first: the PIN goes with the request that needs it.
Result<SecretBytes> ask_pin(Interaction& io, std::optional<int> retries,
                            std::chrono::seconds timeout) {
  ipc::Json fields = ipc::Json::object();
  if (retries) fields["retries"] = *retries;
  io.send_event("need-pin", std::move(fields));
  return io.receive_pin(timeout);
}

// Runs `attempt` with a PIN from the user, asking again after a wrong one while the key has
// tries left.
template <class Attempt>
auto with_pin(Interaction& io, Attempt&& attempt)
    -> decltype(attempt(std::declval<const SecretBytes&>())) {
  std::optional<Error> wrong;  // the last wrong-PIN error
  for (int i = 0;; ++i) {
    auto pin = ask_pin(io, wrong ? wrong->retries_left : std::nullopt, std::chrono::seconds(120));
    if (!pin.ok()) {
      // No PIN again (e.g. --pin-stdin at its end): the wrong PIN is the news, unless the user
      // cancelled.
      if (wrong && pin.error().code != Code::cancelled) return *wrong;
      return pin.error();
    }
    auto result = attempt(*pin);
    if (result.ok() || result.error().code != Code::pin_invalid || i + 1 >= kMaxPinAttempts) {
      return result;
    }
    if (result.error().retries_left && *result.error().retries_left == 0) return result;
    wrong = result.error();
    io.send_event("progress", {{"message", result.error().message}});
  }
}

struct Chosen {
  const ipc::OfferedCredential* credential = nullptr;
  std::optional<SecretBytes> pin;  // when the search already needed it
};

// Which offered FIDO2 credential `token` holds: the only one without asking; otherwise a silent
// look-up, first of the touch-only credentials, then (with the PIN) of those that need it.
Result<Chosen> choose_fido2(devices::Fido2Facet& key,
                            const std::vector<const ipc::OfferedCredential*>& offered,
                            Interaction& io) {
  // A credential enrolled with the PIN lives only on a key that has a PIN.
  const auto possible = [&](const ipc::OfferedCredential* c) {
    return !c->user_verification || key.pin_set();
  };
  if (offered.size() == 1) {
    if (!possible(offered.front())) return not_held();
    return Chosen{offered.front(), std::nullopt};
  }
  bool any_uv = false;
  for (const auto* c : offered) {
    if (c->user_verification) {
      any_uv = any_uv || possible(c);
      continue;
    }
    auto held = key.holds_credential(credential_of(*c), nullptr);
    if (!held.ok()) return held.error();
    if (*held) return Chosen{c, std::nullopt};
  }
  if (!any_uv) return not_held();
  return with_pin(io, [&](const SecretBytes& pin) -> Result<Chosen> {
    for (const auto* c : offered) {
      if (!c->user_verification) continue;
      auto held = key.holds_credential(credential_of(*c), &pin);
      if (!held.ok()) return held.error();
      if (*held) return Chosen{c, pin.clone()};
    }
    return not_held();
  });
}

Result<KeyAnswer> answer_fido2(const ipc::CeremonyOffer& offer, Token& token,
                               devices::Fido2Facet& key, Interaction& io,
                               const DriverSettings& settings) {
  std::vector<const ipc::OfferedCredential*> offered;
  for (const auto& c : offer.credentials) {
    if (c.kind == TokenKind::fido2) offered.push_back(&c);
  }
  auto chosen = choose_fido2(key, offered, io);
  if (!chosen.ok()) return chosen.error();
  const ipc::OfferedCredential& c = *chosen->credential;

  KeyAnswer answer;
  answer.finish.ceremony = offer.ceremony;
  answer.finish.credential = c.credential;
  Bytes hash = c.client_data_hash;
  if (hash.empty()) {
    answer.finish.client_data_json = client_data_json(c.challenge, offer.origin);
    auto digest = client_data_hash(answer.finish.client_data_json);
    if (!digest.ok()) return digest.error();
    hash.assign(digest->begin(), digest->end());
  }
  devices::AssertRequest request;
  request.credential = credential_of(c);
  request.client_data_hash = std::move(hash);
  request.salt = offer.salt;
  request.timeout = settings.token_timeout;
  request.on_touch = [&] { io.send_event("touch-token", {{"step", 1}, {"steps", 1}}); };
  const auto assert_with = [&](const SecretBytes* pin) {
    request.pin = pin;
    WatchScope watch(io, &token);
    return key.assert_hmac_secret(request);
  };
  Result<devices::Assertion> assertion = Error{Code::internal, "No assertion."};
  if (!c.user_verification) {
    assertion = assert_with(nullptr);
  } else if (chosen->pin) {
    assertion = assert_with(&*chosen->pin);
  } else {
    assertion = with_pin(io, [&](const SecretBytes& pin) { return assert_with(&pin); });
  }
  if (!assertion.ok()) return assertion.error();
  answer.finish.authenticator_data = std::move(assertion->auth_data);
  answer.finish.signature = std::move(assertion->signature);
  answer.secret = std::move(assertion->hmac_secret);
  return answer;
}

Result<KeyAnswer> answer_yubikey(const ipc::CeremonyOffer& offer, Token& token,
                                 devices::OtpFacet& key, Interaction& io,
                                 const DriverSettings& settings) {
  const ipc::OfferedCredential* chosen = nullptr;
  YubiKeySlot slot = YubiKeySlot::two;
  for (const auto& c : offer.credentials) {
    if (c.kind != TokenKind::yubikey) continue;
    auto parsed = parse_yubikey_credential(c.credential);
    if (parsed.ok() && parsed->serial == token.info().serial) {
      chosen = &c;
      slot = parsed->slot;
      break;
    }
  }
  if (chosen == nullptr) return not_held();
  WatchScope watch(io, &token);
  int step = 0;
  SecretBytes responses(ipc::kYubiKeyFinishSecretBytes);
  // 1. the rolling proof, 2. S, 3. the next rolling challenge (DESIGN.md §4.2).
  const Bytes* challenges[] = {&chosen->rolling_challenge, &offer.yubikey_challenge,
                               &chosen->next_challenge};
  for (const Bytes* challenge : challenges) {
    if (challenge->size() != devices::kOtpChallengeBytes) {
      return Error{Code::protocol_error, "touchpassd offered a YubiKey challenge of a wrong size."};
    }
    auto response =
        key.challenge_response(slot, std::span<const std::uint8_t, 64>(challenge->data(), 64),
                               settings.token_timeout, [&] {
                                 io.send_event("touch-token", {{"step", step + 1}, {"steps", 3}});
                               });
    if (!response.ok()) return response.error();
    if (response->size() != devices::kOtpResponseBytes) {
      return Error{Code::malformed_reply, "The YubiKey's response has a wrong length."};
    }
    std::copy(
        response->bytes().begin(), response->bytes().end(),
        responses.bytes().begin() + step * static_cast<std::ptrdiff_t>(devices::kOtpResponseBytes));
    ++step;
  }
  KeyAnswer answer;
  answer.finish.ceremony = offer.ceremony;
  answer.finish.credential = chosen->credential;
  answer.secret = std::move(responses);
  return answer;
}

Result<KeyAnswer> enroll_fido2(const ipc::EnrollOffer& offer, Token& token,
                               devices::Fido2Facet& key, Interaction& io,
                               const DriverSettings& settings) {
  auto caps = key.capabilities();
  if (!caps.ok()) return caps.error();
  KeyAnswer answer;
  answer.finish.ceremony = offer.ceremony;
  answer.finish.client_data_json =
      client_data_json(offer.challenge, offer.origin, kClientDataCreate);
  auto hash = client_data_hash(answer.finish.client_data_json);
  if (!hash.ok()) return hash.error();
  devices::EnrollRequest request;
  request.rp_id = offer.rp_id;
  request.rp_name = offer.rp_name;
  request.user_id = offer.user_id;
  request.user_name = offer.user_name;
  request.client_data_hash.assign(hash->begin(), hash->end());
  request.uv = offer.user_verification ? devices::UserVerification::pin
                                       : devices::UserVerification::presence_only;
  request.timeout = settings.token_timeout;
  request.on_touch = [&] { io.send_event("touch-token", {{"step", 1}, {"steps", 1}}); };
  const auto enroll_with = [&](const SecretBytes* pin) {
    request.pin = pin;
    WatchScope watch(io, &token);
    return key.enroll(request);
  };
  Result<devices::Enrollment> enrolled = Error{Code::internal, "Not enrolled."};
  if (caps->client_pin && !caps->pin_set && offer.user_verification) {
    io.send_event("need-new-pin", {{"min_length", 4}});
    auto new_pin = io.receive_pin(std::chrono::seconds(120));
    if (!new_pin.ok()) return new_pin.error();
    if (Status s = key.set_pin(*new_pin); !s.ok()) return s.error();
    enrolled = enroll_with(&*new_pin);
  } else if (caps->pin_set) {
    enrolled = with_pin(io, [&](const SecretBytes& pin) { return enroll_with(&pin); });
  } else {
    enrolled = enroll_with(nullptr);
  }
  if (!enrolled.ok()) return enrolled.error();
  answer.finish.credential = enrolled->credential.id;
  answer.finish.authenticator_data = std::move(enrolled->auth_data);
  answer.finish.signature = std::move(enrolled->attestation_signature);
  answer.finish.attestation_format = enrolled->attestation_format;
  if (!enrolled->x5c.empty()) answer.finish.attestation_certificate = enrolled->x5c.front();
  answer.finish.device = token.info().product;
  answer.finish.virtual_token = token.info().is_virtual();
  return answer;
}

Result<KeyAnswer> enroll_yubikey(const ipc::EnrollOffer& offer, Token& token,
                                 devices::OtpFacet& key, Interaction& io,
                                 const DriverSettings& settings) {
  const YubiKeySlot slot = offer.slot == 1 ? YubiKeySlot::one : YubiKeySlot::two;
  auto status = key.otp_status();
  if (!status.ok()) return status.error();
  if (status->serial == 0) {
    return Error{Code::capability_missing,
                 "This YubiKey does not reveal its serial number, which touchpass needs to tell "
                 "keys apart; enable it with the YubiKey Manager (serial visible over the API)."};
  }
  if (offer.program) {
    // A fresh random key that requires a touch; it never leaves this process's memory, which is
    // wiped at once (YubiKeyToken::program_challenge_response).
    if (Status s = key.program_challenge_response(slot, /*require_touch=*/true, offer.force);
        !s.ok()) {
      return s.error();
    }
  } else if (!status->slot(slot).programmed) {
    return Error{Code::not_found, "Slot " + std::to_string(offer.slot) +
                                      " of this YubiKey is not programmed for challenge-response; "
                                      "program it with `touchpass enroll --kind yubikey "
                                      "--program`."};
  }
  if (offer.rolling_challenge.size() != devices::kOtpChallengeBytes) {
    return Error{Code::protocol_error, "touchpassd offered a YubiKey challenge of a wrong size."};
  }
  WatchScope watch(io, &token);
  auto response = key.challenge_response(
      slot, std::span<const std::uint8_t, 64>(offer.rolling_challenge.data(), 64),
      settings.token_timeout, [&] {
        io.send_event("touch-token", {{"step", 1}, {"steps", 1}});
      });
  if (!response.ok()) return response.error();
  KeyAnswer answer;
  answer.finish.ceremony = offer.ceremony;
  answer.finish.credential = encode_yubikey_credential({status->serial, slot});
  answer.finish.device = "YubiKey " + status->firmware.to_string();
  answer.secret = std::move(*response);
  return answer;
}

// A YubiKey's OTP application cannot be chosen by touch (TokenBroker::acquire takes the first):
// enrolling one is refused while several are plugged in, rather than programming a guess.
Status only_one_yubikey(TokenBroker& broker) {
  auto present = broker.present();
  if (!present.ok()) return Status::success();  // acquire reports it
  std::string serials;
  int count = 0;
  for (const auto& info : *present) {
    if (info.transport != devices::Transport::yubikey_otp || !may_open(info)) continue;
    serials += (count++ == 0 ? "" : ", ") + std::to_string(info.serial);
  }
  if (count <= 1) return Status::success();
  return Status(Code::no_token,
                "Several YubiKeys are plugged in (serials " + serials +
                    "), and touchpass cannot tell by a touch which one to enroll. Leave only that "
                    "one plugged in and try again.");
}

}  // namespace

std::string client_data_json(std::span<const std::uint8_t> challenge, std::string_view origin,
                             std::string_view type) {
  // nlohmann::json keeps members sorted; touchpassd parses the text, so any order is right.
  const nlohmann::json j = {{"type", type},
                            {"challenge", to_base64url(challenge)},
                            {"origin", origin},
                            {"crossOrigin", false}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<KeyAnswer> answer_offer(const ipc::CeremonyOffer& offer, TokenBroker& broker,
                               Interaction& io, const DriverSettings& settings) {
  bool any_fido2 = false;
  std::vector<std::uint32_t> serials;
  for (const auto& c : offer.credentials) {
    if (c.kind == TokenKind::fido2) any_fido2 = true;
    if (c.kind != TokenKind::yubikey) continue;
    if (auto parsed = parse_yubikey_credential(c.credential); parsed.ok()) {
      serials.push_back(parsed->serial);
    }
  }
  const TokenBroker::Usable offered = [&](const devices::TokenInfo& info) {
    if (!may_open(info)) return false;
    if (info.transport != devices::Transport::yubikey_otp) return any_fido2;
    return std::find(serials.begin(), serials.end(), info.serial) != serials.end();
  };
  auto lease = broker.acquire(io, offered);
  if (!lease.ok()) return lease.error();
  Token& token = lease->token();
  if (auto* otp = token.otp()) return answer_yubikey(offer, token, *otp, io, settings);
  if (auto* fido2 = token.fido2()) return answer_fido2(offer, token, *fido2, io, settings);
  return no_application(token);
}

Result<KeyAnswer> answer_enroll(const ipc::EnrollOffer& offer, TokenBroker& broker, Interaction& io,
                                const DriverSettings& settings) {
  const bool otp = offer.kind == TokenKind::yubikey;
  if (otp) {
    if (Status single = only_one_yubikey(broker); !single.ok()) return single.error();
  }
  auto lease = broker.acquire(io, [otp](const devices::TokenInfo& info) {
    return may_open(info) && (info.transport == devices::Transport::yubikey_otp) == otp;
  });
  if (!lease.ok()) return lease.error();
  Token& token = lease->token();
  if (auto* facet = token.otp(); otp && facet) {
    return enroll_yubikey(offer, token, *facet, io, settings);
  }
  if (auto* facet = token.fido2(); !otp && facet) {
    return enroll_fido2(offer, token, *facet, io, settings);
  }
  return no_application(token);
}

}  // namespace touchpass::client
