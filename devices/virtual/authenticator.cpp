#include "devices/virtual/authenticator.h"

#include <charconv>
#include <exception>
#include <string>
#include <utility>

#include "core/cbor_writer.h"
#include "devices/virtual/auth_data.h"
#include "devices/virtual/authenticator_impl.h"
#include "devices/virtual/fault.h"
#include "devices/virtual/pin_policy.h"

namespace touchpass::vtoken {

namespace {

constexpr std::uint8_t kCmdMakeCredential = 0x01;
constexpr std::uint8_t kCmdGetAssertion = 0x02;
constexpr std::uint8_t kCmdGetInfo = 0x04;
constexpr std::uint8_t kCmdClientPin = 0x06;
constexpr std::uint8_t kCmdReset = 0x07;
constexpr std::uint8_t kCmdGetNextAssertion = 0x08;

constexpr std::uint32_t kMaxPresenceDelayMs = 600000;
constexpr std::size_t kAaguidSize = 16;

std::string command_name(std::uint8_t command) {
  switch (command) {
    case kCmdMakeCredential:
      return "makeCredential";
    case kCmdGetAssertion:
      return "getAssertion";
    case kCmdGetInfo:
      return "getInfo";
    case kCmdClientPin:
      return "clientPin";
    case kCmdReset:
      return "reset";
    case kCmdGetNextAssertion:
      return "getNextAssertion";
    default: {
      static constexpr char kHex[] = "0123456789abcdef";
      return std::string{'0', 'x', kHex[command >> 4], kHex[command & 15]};
    }
  }
}

bool faultable(std::uint8_t command) {
  return command == kCmdMakeCredential || command == kCmdGetAssertion ||
         command == kCmdGetNextAssertion || command == kCmdClientPin;
}

Result<State> fresh_state(const Config& config) {
  State state;
  state.aaguid = crypto::random_bytes(kAaguidSize);
  const auto attestation = crypto::P256Key::generate();
  state.attestation_key = attestation.private_der();
  state.attestation_certificate = crypto::make_attestation_certificate(attestation, state.aaguid);
  state.pin_retries = config.max_pin_retries;
  if (config.initial_pin) {
    const SecretBytes pin = SecretBytes::copy_of(*config.initial_pin);
    if (!pin_meets_policy(pin.bytes()))
      return Error(Code::pin_policy,
                   "the initial PIN of the virtual token must be 4 to 63 bytes "
                   "of UTF-8");
    state.pin_hash = pin_hash(pin.bytes());
  }
  return state;
}

}  // namespace

std::optional<std::uint8_t> presence_failure(Presence presence) {
  switch (presence) {
    case Presence::approved:
      return std::nullopt;
    case Presence::denied:
      return ctap::kOperationDenied;
    case Presence::timed_out:
      return ctap::kUserActionTimeout;
    case Presence::cancelled:
      return ctap::kKeepaliveCancel;
  }
  return ctap::kOther;
}

std::optional<PresencePolicy> PresencePolicy::parse(std::string_view text) {
  if (text == "approve") return PresencePolicy{Mode::approve, 0};
  if (text == "deny") return PresencePolicy{Mode::deny, 0};
  constexpr std::string_view kDelay = "delay:";
  if (!text.starts_with(kDelay)) return std::nullopt;
  const std::string_view digits = text.substr(kDelay.size());
  if (digits.empty() || digits.size() > 6 || digits.find_first_not_of("0123456789") != digits.npos)
    return std::nullopt;
  std::uint32_t ms = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), ms);
  if (ec != std::errc() || end != digits.data() + digits.size() || ms > kMaxPresenceDelayMs)
    return std::nullopt;
  return PresencePolicy{Mode::delay, ms};
}

Authenticator::Impl::Impl(Config cfg, std::filesystem::path file, State loaded)
    : config(std::move(cfg)),
      state_file(std::move(file)),
      state(std::move(loaded)),
      key_agreement(crypto::P256Key::generate()) {
  new_pin_uv_auth_token();
}

Result<std::unique_ptr<Authenticator>> Authenticator::open(Config config,
                                                           std::filesystem::path state_file) {
  try {
    Result<State> state = load_state(state_file);
    if (!state.ok() && state.code() == Code::not_found) {
      state = fresh_state(config);
      if (!state.ok()) return state.error();
      if (Status saved = save_state(*state, state_file); !saved.ok()) return saved.error();
    }
    if (!state.ok()) return state.error();
    auto impl = std::make_unique<Impl>(config, std::move(state_file), std::move(*state));
    return std::unique_ptr<Authenticator>(new Authenticator(std::move(config), std::move(impl)));
  } catch (const std::exception& e) {
    return Error(Code::internal, std::string("cannot start the virtual token: ") + e.what());
  }
}

Authenticator::Authenticator(Config config, std::unique_ptr<Impl> impl)
    : config_(std::move(config)), impl_(std::move(impl)) {}

Authenticator::~Authenticator() = default;

Bytes Authenticator::handle_cbor(std::span<const std::uint8_t> request, PresenceWaiter& presence) {
  try {
    return impl_->handle(request, presence);
  } catch (...) {
    return Bytes{ctap::kOther};
  }
}

void Authenticator::power_cycle() {
  std::lock_guard lock(impl_->mutex);
  impl_->key_agreement = crypto::P256Key::generate();
  impl_->new_pin_uv_auth_token();
  impl_->consecutive_pin_failures = 0;
  impl_->pending.reset();
}

std::vector<std::string> Authenticator::take_command_trace() {
  std::lock_guard lock(impl_->mutex);
  return std::exchange(impl_->trace, {});
}

Bytes Authenticator::aaguid() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->state.aaguid;
}

int Authenticator::pin_retries() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->state.pin_retries;
}

Bytes Authenticator::Impl::handle(std::span<const std::uint8_t> request, PresenceWaiter& presence) {
  std::lock_guard serial(command_mutex);
  std::unique_lock lock(mutex);
  if (request.empty()) return Bytes{ctap::kInvalidLength};
  if (request.size() - 1 > kMaxMsgSize) return Bytes{ctap::kRequestTooLarge};
  const std::uint8_t command = request[0];
  const auto body = request.subspan(1);
  if (command != kCmdClientPin) trace.push_back(command_name(command));  // client_pin() records
  if (command != kCmdGetNextAssertion) pending.reset();
  CommandContext ctx{presence, lock};

  Bytes reply{ctap::kOk};
  try {
    Bytes out;
    switch (command) {
      case kCmdGetInfo:
      case kCmdReset:
      case kCmdGetNextAssertion:
        if (!body.empty()) throw CtapError(ctap::kInvalidLength);
        out = command == kCmdGetInfo ? get_info()
              : command == kCmdReset ? reset(ctx)
                                     : get_next_assertion();
        break;
      case kCmdMakeCredential:
        out = make_credential(decode_cbor(body).get(), ctx);
        break;
      case kCmdGetAssertion:
        out = get_assertion(decode_cbor(body).get(), ctx);
        break;
      case kCmdClientPin:
        out = client_pin(decode_cbor(body).get());
        break;
      default:
        return Bytes{ctap::kInvalidCommand};
    }
    reply.insert(reply.end(), out.begin(), out.end());
  } catch (const CtapError& e) {
    return Bytes{e.status()};
  }
  const bool faulted = faultable(command) || (command == kCmdGetInfo && config.fault_get_info);
  const bool has_auth_data = command == kCmdMakeCredential || command == kCmdGetAssertion ||
                             command == kCmdGetNextAssertion;
  return faulted ? apply_fault(config.fault, std::move(reply), has_auth_data) : reply;
}

Bytes Authenticator::Impl::get_info() const {
  const bool ctap21 = config.ctap21;
  CborWriter w;
  w.map(ctap21 ? 7 : 6);

  w.uint(1).array(ctap21 ? 2 : 1).text("FIDO_2_0");
  if (ctap21) w.text("FIDO_2_1");

  w.uint(2).array(config.hmac_secret ? 2 : 1).text("credProtect");
  if (config.hmac_secret) w.text("hmac-secret");

  w.uint(3).bytes(state.aaguid);

  w.uint(4).map((ctap21 ? 5U : 3U) + (config.always_uv ? 1U : 0U));
  w.text("rk").boolean(true);
  w.text("up").boolean(true);
  if (config.always_uv) w.text("uv").boolean(true);
  w.text("clientPin").boolean(state.pin_hash.has_value());
  if (ctap21) {
    w.text("pinUvAuthToken").boolean(true);
    w.text("makeCredUvNotRqd").boolean(false);
  }

  w.uint(5).uint(kMaxMsgSize);

  w.uint(6).array(config.pin_protocols.size());
  for (int p : config.pin_protocols) w.nint(p);

  if (ctap21) {
    w.uint(10).array(1).map(2);
    w.text("alg").nint(kCoseEs256);
    w.text("type").text("public-key");
  }
  return w.take();
}

Bytes Authenticator::Impl::reset(CommandContext& ctx) {
  wait_for_presence(ctx);
  state.credentials.clear();
  state.pin_hash.reset();
  state.pin_retries = config.max_pin_retries;
  key_agreement = crypto::P256Key::generate();
  new_pin_uv_auth_token();
  consecutive_pin_failures = 0;
  save();
  return {};
}

void Authenticator::Impl::wait_for_presence(CommandContext& ctx) {
  ctx.lock.unlock();
  Presence answer = Presence::cancelled;
  try {
    answer = ctx.presence.wait_for_presence();
  } catch (...) {
    ctx.lock.lock();
    throw;
  }
  ctx.lock.lock();
  if (auto failure = presence_failure(answer)) throw CtapError(*failure);
  trace.push_back("touch");
}

void Authenticator::Impl::new_pin_uv_auth_token() {
  pin_token = PinUvAuthToken{crypto::random_secret(32), 0, std::nullopt};
}

StoredCredential* Authenticator::Impl::find_credential(std::span<const std::uint8_t> id,
                                                       std::span<const std::uint8_t> rp_id_hash) {
  for (auto& c : state.credentials) {
    if (std::equal(c.id.begin(), c.id.end(), id.begin(), id.end()) &&
        std::equal(c.rp_id_hash.begin(), c.rp_id_hash.end(), rp_id_hash.begin(), rp_id_hash.end()))
      return &c;
  }
  return nullptr;
}

std::uint32_t Authenticator::Impl::next_sign_count() {
  return ++state.sign_count;
}

void Authenticator::Impl::save() {
  if (!save_state(state, state_file).ok()) throw CtapError(ctap::kOther);
}

}  // namespace touchpass::vtoken
