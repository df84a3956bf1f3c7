#include "devices/fido2/fido2_token.h"

#include <fcntl.h>
#include <fido/es256.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "core/fd.h"
#include "core/random.h"
#include "core/utf8.h"
#include "devices/fido2/attestation.h"
#include "devices/fido2/errors.h"
#include "devices/fido2/report_io.h"

namespace touchpass::devices::fido2 {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kHashSize = 32;      // clientDataHash, hmac-secret salt and output
constexpr std::size_t kEs256KeySize = 64;  // x || y
constexpr std::uint8_t kFlagUserVerified = 0x04;
// CTAP's PIN rule: 4 to 63 bytes of UTF-8.
constexpr std::size_t kMinPinBytes = 4;
constexpr std::size_t kMaxPinBytes = 63;
// wait_for_touch polls the token's answer in slices this long, to notice its deadline and a
// removed token.
constexpr milliseconds kTouchPollSlice{200};
// How long a token may take to answer a request it was sent CTAPHID_CANCEL for. CTAP 2.1
// §11.2.9.1.5 asks for the answer (CTAP2_ERR_KEEPALIVE_CANCEL) "as soon as possible"; real keys
// answer within milliseconds. A token that does not answer in time is closed all the same.
constexpr milliseconds kCancelAnswerBudget{2000};
// The result of a libfido2 call that was never made (the operation was cancelled first).
constexpr int kNotSent = INT_MIN;

int to_fido_ms(milliseconds timeout) {
  if (timeout.count() <= 0) return 1;
  if (timeout.count() >= INT_MAX) return INT_MAX;
  return static_cast<int>(timeout.count());
}

Bytes copy_bytes(const unsigned char* ptr, std::size_t len) {
  if (ptr == nullptr || len == 0) return {};
  return Bytes(ptr, ptr + len);
}

// The contents of a CBOR byte string (major type 2, definite length): libfido2 1.12 returns an
// assertion's authenticator data in that form only.
std::optional<Bytes> unwrap_cbor_byte_string(const unsigned char* ptr, std::size_t len) {
  if (ptr == nullptr || len == 0 || (ptr[0] >> 5) != 2) return std::nullopt;
  const std::uint8_t info = ptr[0] & 0x1f;
  std::size_t header = 1;
  std::size_t length = 0;
  if (info < 24) {
    length = info;
  } else if (info == 24 && len >= 2) {
    length = ptr[1];
    header = 2;
  } else if (info == 25 && len >= 3) {
    length = (std::size_t{ptr[1]} << 8) | ptr[2];
    header = 3;
  } else {
    return std::nullopt;
  }
  if (len != header + length) return std::nullopt;
  return Bytes(ptr + header, ptr + len);
}

// A NUL-terminated copy of `pin` for libfido2, in wiped memory.
Result<SecretBytes> c_string_pin(const SecretBytes& pin) {
  if (pin.empty() || std::memchr(pin.data(), '\0', pin.size()) != nullptr) {
    return Error(Code::invalid_argument, "The PIN must be non-empty text without NUL characters.");
  }
  SecretBytes copy(pin.size() + 1);
  std::memcpy(copy.data(), pin.data(), pin.size());
  copy.data()[pin.size()] = '\0';
  return copy;
}

// pin_policy unless `pin` meets CTAP's rule for a new PIN (4 to 63 bytes of UTF-8, no NUL). Checked
// before a new PIN goes to the token, so that a bad one never costs a try of the old PIN.
Status check_new_pin(const SecretBytes& pin) {
  const auto bytes = pin.bytes();
  if (bytes.size() < kMinPinBytes || bytes.size() > kMaxPinBytes ||
      std::find(bytes.begin(), bytes.end(), std::uint8_t{0}) != bytes.end() ||
      !is_valid_utf8(bytes)) {
    return Status(Code::pin_policy,
                  "A security key PIN must be 4 to 63 bytes of UTF-8 text (for example 4 to 63 "
                  "letters and digits). Choose another PIN.");
  }
  return Status::success();
}

const char* c_str(const SecretBytes& pin) {
  return reinterpret_cast<const char*>(pin.data());
}

const char* c_str(const std::optional<SecretBytes>& pin) {
  return pin ? c_str(*pin) : nullptr;
}

// Reads and discards the token's answer to the request just cancelled on `dev`, waiting at most
// `budget`, skipping keepalives; returns early on any other report of the request's channel and
// when the connection fails. libfido2 has no call that only reads an answer:
// fido_dev_get_touch_status is one for a FIDO2 device (libfido2 1.12 src/dev.c: it reads the
// next CTAPHID_CBOR answer on the device's channel with fido_rx_cbor_status and returns its
// status byte, or FIDO_OK with nothing touched when no answer came).
void await_cancelled_answer(fido_dev_t* dev, milliseconds budget) {
  int touched = 0;
  fido_dev_get_touch_status(dev, &touched, to_fido_ms(budget));
}

bool path_exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

std::vector<std::string> string_list(char** ptr, std::size_t len) {
  std::vector<std::string> out;
  for (std::size_t i = 0; ptr != nullptr && i < len; ++i)
    if (ptr[i] != nullptr) out.emplace_back(ptr[i]);
  return out;
}

}  // namespace

// The scope of one public operation: cancel() only acts inside one, and a cancel request ends
// with the operation (a cancel() while nothing runs does not poison the next operation).
class Fido2Token::Operation {
 public:
  explicit Operation(Fido2Token& token) : token_(token) {
    ensure_libfido2_initialized();
    std::lock_guard lock(token_.mutex_);
    token_.in_operation_ = true;
    token_.cancel_requested_ = false;
  }
  ~Operation() {
    std::lock_guard lock(token_.mutex_);
    token_.in_operation_ = false;
    token_.cancel_requested_ = false;
  }
  Operation(const Operation&) = delete;
  Operation& operator=(const Operation&) = delete;

 private:
  Fido2Token& token_;
};

Fido2Token::Fido2Token(TokenInfo info) : info_(std::move(info)) {}

Fido2Token::~Fido2Token() = default;

Result<std::unique_ptr<Fido2Token>> Fido2Token::open(const TokenInfo& info) {
  ensure_libfido2_initialized();
  std::unique_ptr<Fido2Token> token(new Fido2Token(info));
  if (Status opened = token->ensure_open(); !opened.ok()) return opened;
  return token;
}

Status Fido2Token::ensure_open() {
  if (dev_) return Status::success();
  const bool is_virtual = info_.transport == Transport::virtual_socket;

  DevicePtr dev(fido_dev_new());
  if (!dev) return Status(Code::internal, "Out of memory while opening the security key.");
  if (fido_dev_set_io_functions(dev.get(), is_virtual ? &virtual_socket_io() : &hidraw_io()) !=
      FIDO_OK)
    return Status(Code::internal, "Could not install the security key's I/O functions.");
  fido_dev_set_timeout(dev.get(), to_fido_ms(kCommandTimeout));

  const int r = fido_dev_open(dev.get(), info_.path.c_str());
  if (r != FIDO_OK) {
    // libfido2 reports a failed io.open as FIDO_ERR_INTERNAL: find out why from the system.
    const int open_errno = report_io_last_open_errno();
    if (open_errno != 0) return translate_open_errno(info_, open_errno);
    if (report_io_refused_answer_since_open()) return malformed_reply(kMalformedCbor);
    return translate_fido_error(r);
  }
  // libfido2 1.12 fails the open when getInfo's answer is withheld (above); versions that take
  // such a key for a U2F-only one would land here.
  if (report_io_refused_answer_since_open()) return malformed_reply(kMalformedCbor);
  if (!fido_dev_is_fido2(dev.get())) {
    return Status(Code::capability_missing,
                  "This security key only speaks U2F (CTAP1); touchpass needs a FIDO2 key with "
                  "the hmac-secret extension.");
  }
  // libfido2 read the key's getInfo while opening; its flags tell whether a PIN is set.
  pin_set_ = pin_set_ || fido_dev_has_pin(dev.get());
  std::lock_guard lock(mutex_);
  dev_ = std::move(dev);
  return Status::success();
}

template <class Call>
Status Fido2Token::run(Call&& call, milliseconds timeout, bool presence_expected,
                       const TouchPrompt& on_touch) {
  if (Status opened = ensure_open(); !opened.ok()) return opened;
  fido_dev_t* dev = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (cancel_requested_) return Status(Code::cancelled, "The operation was cancelled.");
    dev = dev_.get();
    fido_dev_set_timeout(dev, to_fido_ms(timeout));
    reset_report_io_flags(fido_dev_io_handle(dev));
    busy_ = true;
  }
  // The prompt comes when the request that waits for the touch is sent, after any PIN token.
  arm_touch_hook(fido_dev_io_handle(dev), on_touch);
  // dev_ is only replaced by the operation's own thread, so `dev` stays valid during the call;
  // cancel() may use it concurrently (fido_dev_cancel only writes one report).
  const auto start = Clock::now();
  const int r = call(dev);
  const auto elapsed = Clock::now() - start;
  arm_touch_hook(fido_dev_io_handle(dev), nullptr);
  {
    std::lock_guard lock(mutex_);
    busy_ = false;
  }
  if (r == FIDO_OK) return Status::success();
  return fail(r, elapsed, timeout, presence_expected);
}

Error Fido2Token::fail(int fido_error, Clock::duration elapsed, milliseconds timeout,
                       bool presence_expected) {
  // FIDO_ERR_INTERNAL included: libfido2 1.12 reports a failed key agreement exchange so.
  const bool transport_failure =
      fido_error == FIDO_ERR_RX || fido_error == FIDO_ERR_TX || fido_error == FIDO_ERR_INTERNAL;
  FailureContext context;
  context.presence_expected = presence_expected;
  fido_dev_t* dev = dev_.get();
  const ReportIoFlags flags = report_io_flags(fido_dev_io_handle(dev));
  // A hidraw node may fail a write with another errno when its device is pulled out: a vanished
  // node means the same.
  context.removed =
      flags.peer_closed ||
      (transport_failure && info_.transport == Transport::usb_hid && !path_exists(info_.path));
  context.timed_out = transport_failure && (flags.timed_out || elapsed >= timeout);
  context.malformed_answer = transport_failure && flags.malformed_answer;
  {
    std::lock_guard lock(mutex_);
    context.cancel_requested =
        cancel_requested_ && (transport_failure || fido_error == FIDO_ERR_KEEPALIVE_CANCEL);
  }

  if (fido_error == FIDO_ERR_PIN_INVALID) {
    // Never retry the PIN; only read back how many tries remain, to say so.
    int retries = 0;
    fido_dev_set_timeout(dev, to_fido_ms(kCommandTimeout));
    if (fido_dev_get_retry_count(dev, &retries) == FIDO_OK) context.retries_left = retries;
  }

  if (transport_failure || context.removed || context.timed_out) {
    // The token may still be waiting for a touch, and a late reply must not be taken for the
    // answer to the next request: end the request, close, and let the next call reopen.
    if (context.timed_out && !context.removed) {
      abandon_request();
    } else {
      close_device();
    }
  }
  return translate_fido_error(fido_error, context);
}

void Fido2Token::cancel() {
  ensure_libfido2_initialized();
  std::lock_guard lock(mutex_);
  if (!in_operation_) return;
  cancel_requested_ = true;
  if (busy_ && dev_) fido_dev_cancel(dev_.get());
}

Result<Capabilities> Fido2Token::capabilities() {
  Operation operation(*this);
  return read_capabilities();
}

Result<Capabilities> Fido2Token::read_capabilities() {
  if (capabilities_) return *capabilities_;
  CborInfoPtr info(fido_cbor_info_new());
  if (!info) return Error(Code::internal, "Out of memory while reading the key's capabilities.");
  Status s = run([&](fido_dev_t* dev) { return fido_dev_get_cbor_info(dev, info.get()); },
                 kCommandTimeout, false);
  if (!s.ok()) return s;

  const fido_cbor_info_t* ci = info.get();
  Capabilities caps;
  caps.versions = string_list(fido_cbor_info_versions_ptr(ci), fido_cbor_info_versions_len(ci));
  caps.extensions =
      string_list(fido_cbor_info_extensions_ptr(ci), fido_cbor_info_extensions_len(ci));
  caps.aaguid = copy_bytes(fido_cbor_info_aaguid_ptr(ci), fido_cbor_info_aaguid_len(ci));
  for (std::size_t i = 0; i < fido_cbor_info_algorithm_count(ci); ++i)
    caps.algorithms.push_back(fido_cbor_info_algorithm_cose(ci, i));
  const std::uint8_t* protocols = fido_cbor_info_protocols_ptr(ci);
  for (std::size_t i = 0; protocols != nullptr && i < fido_cbor_info_protocols_len(ci); ++i)
    caps.pin_protocols.push_back(protocols[i]);

  char** names = fido_cbor_info_options_name_ptr(ci);
  const bool* values = fido_cbor_info_options_value_ptr(ci);
  for (std::size_t i = 0;
       names != nullptr && values != nullptr && i < fido_cbor_info_options_len(ci); ++i) {
    const std::string_view name = names[i];
    if (name == "clientPin") {
      caps.client_pin = true;
      caps.pin_set = values[i];
    } else if (name == "pinUvAuthToken") {
      caps.pin_uv_auth_token = values[i];
    } else if (name == "uv") {
      caps.uv_builtin = values[i];
    } else if (name == "rk") {
      caps.resident_keys = values[i];
    }
  }
  pin_set_ = caps.pin_set;
  capabilities_ = caps;
  return caps;
}

Result<int> Fido2Token::pin_retries() {
  Operation operation(*this);
  auto caps = read_capabilities();
  if (!caps) return caps.error();
  if (!caps->client_pin)
    return Error(Code::capability_missing, "This security key does not support a PIN.");
  if (!caps->pin_set)
    return Error(Code::pin_not_set, "This security key has no PIN yet. Set a PIN first.");
  int retries = 0;
  Status s = run([&](fido_dev_t* dev) { return fido_dev_get_retry_count(dev, &retries); },
                 kCommandTimeout, false);
  if (!s.ok()) return s;
  return retries;
}

Status Fido2Token::set_pin(const SecretBytes& new_pin) {
  if (Status valid = check_new_pin(new_pin); !valid.ok()) return valid;
  Operation operation(*this);
  auto caps = read_capabilities();
  if (!caps) return caps.status();
  if (!caps->client_pin)
    return Status(Code::capability_missing, "This security key does not support a PIN.");
  if (caps->pin_set) {
    return Status(Code::invalid_argument,
                  "This security key already has a PIN. Change it instead of setting it.");
  }
  auto pin = c_string_pin(new_pin);
  if (!pin) return pin.status();
  Status set = run([&](fido_dev_t* dev) { return fido_dev_set_pin(dev, c_str(*pin), nullptr); },
                   kCommandTimeout, false);
  if (set.ok()) {
    capabilities_->pin_set = true;
    pin_set_ = true;
  }
  return set;
}

Status Fido2Token::change_pin(const SecretBytes& old_pin, const SecretBytes& new_pin) {
  if (Status valid = check_new_pin(new_pin); !valid.ok()) return valid;
  Operation operation(*this);
  auto caps = read_capabilities();
  if (!caps) return caps.status();
  if (!caps->client_pin)
    return Status(Code::capability_missing, "This security key does not support a PIN.");
  if (!caps->pin_set)
    return Status(Code::pin_not_set, "This security key has no PIN yet. Set a PIN first.");
  auto old_c = c_string_pin(old_pin);
  if (!old_c) return old_c.status();
  auto new_c = c_string_pin(new_pin);
  if (!new_c) return new_c.status();
  return run([&](fido_dev_t* dev) { return fido_dev_set_pin(dev, c_str(*new_c), c_str(*old_c)); },
             kCommandTimeout, false);
}

Result<Enrollment> Fido2Token::enroll(const EnrollRequest& request) {
  Operation operation(*this);
  if (request.rp_id.empty() || request.user_id.empty() || request.user_id.size() > 64 ||
      request.client_data_hash.size() != kHashSize) {
    return Error(Code::invalid_argument,
                 "Invalid enrollment request: it needs an RP id, a user id of 1 to 64 bytes and "
                 "a 32-byte client data hash.");
  }

  auto caps = read_capabilities();
  if (!caps) return caps.error();
  if (!caps->hmac_secret()) {
    return Error(Code::capability_missing,
                 "This security key does not support the hmac-secret extension, which touchpass "
                 "needs to derive app passwords. Use a FIDO2 key that offers hmac-secret.");
  }
  bool es256 = caps->algorithms.empty();  // tokens that do not list algorithms offer ES256
  for (int alg : caps->algorithms) es256 = es256 || alg == kCoseEs256;
  if (!es256) {
    return Error(Code::capability_missing,
                 "This security key does not offer ES256 (ECDSA P-256) credentials. Use another "
                 "key.");
  }
  if (request.uv == UserVerification::pin) {
    if (!caps->client_pin) {
      return Error(Code::capability_missing,
                   "This security key does not support a PIN (clientPin), which a PIN-protected "
                   "credential needs. Enroll with touch only, or use another key.");
    }
    if (!caps->pin_set) {
      return Error(Code::pin_not_set,
                   "This security key has no PIN yet. Set a PIN first, then enroll.");
    }
    if (!caps->cred_protect()) {
      return Error(Code::capability_missing,
                   "This security key does not support credProtect, which makes a PIN-protected "
                   "credential unusable without the PIN. Enroll with touch only, or use another "
                   "key.");
    }
    if (request.pin == nullptr) {
      return Error(Code::pin_required,
                   "Enrolling a PIN-protected credential needs the security key's PIN. Enter "
                   "the PIN and try again.");
    }
  }
  // The PIN goes to the token when the credential needs it or the token has one set (a token
  // with a PIN refuses makeCredential without it).
  const bool send_pin = request.pin != nullptr && caps->pin_set;
  if (send_pin && caps->pin_protocols.empty()) {
    return Error(Code::capability_missing,
                 "This security key lists no PIN protocol (pinUvAuthProtocols), so its PIN cannot "
                 "be used. Use another key.");
  }
  std::optional<SecretBytes> pin;
  if (send_pin) {
    auto copy = c_string_pin(*request.pin);
    if (!copy) return copy.error();
    pin = std::move(copy).value();
  }

  const int cred_protect = !caps->cred_protect() ? 0
                           : request.uv == UserVerification::pin
                               ? FIDO_CRED_PROT_UV_REQUIRED
                               : FIDO_CRED_PROT_UV_OPTIONAL_WITH_ID;
  CredPtr cred(fido_cred_new());
  if (!cred) return Error(Code::internal, "Out of memory while enrolling.");
  const char* rp_name = request.rp_name.empty() ? nullptr : request.rp_name.c_str();
  const char* user_name = request.user_name.empty() ? nullptr : request.user_name.c_str();
  if (fido_cred_set_type(cred.get(), COSE_ES256) != FIDO_OK ||
      fido_cred_set_clientdata_hash(cred.get(), request.client_data_hash.data(),
                                    request.client_data_hash.size()) != FIDO_OK ||
      fido_cred_set_rp(cred.get(), request.rp_id.c_str(), rp_name) != FIDO_OK ||
      fido_cred_set_user(cred.get(), request.user_id.data(), request.user_id.size(), user_name,
                         user_name, nullptr) != FIDO_OK ||
      fido_cred_set_rk(cred.get(), FIDO_OPT_FALSE) != FIDO_OK ||
      fido_cred_set_extensions(cred.get(), FIDO_EXT_HMAC_SECRET) != FIDO_OK ||
      (cred_protect != 0 && fido_cred_set_prot(cred.get(), cred_protect) != FIDO_OK)) {
    return Error(Code::invalid_argument, "Invalid enrollment request (rejected by libfido2).");
  }

  Status made =
      run([&](fido_dev_t* dev) { return fido_dev_make_cred(dev, cred.get(), c_str(pin)); },
          request.timeout, true, request.on_touch);
  if (!made.ok()) return made;

  if (Status attested = verify_attestation(cred.get(), request.rp_id); !attested.ok())
    return attested;
  const char* fmt = fido_cred_fmt(cred.get());
  const std::string format = fmt != nullptr ? fmt : "";
  if (fido_cred_type(cred.get()) != COSE_ES256 ||
      fido_cred_pubkey_len(cred.get()) != kEs256KeySize || fido_cred_id_len(cred.get()) == 0) {
    return malformed_reply("the new credential is not an ES256 credential");
  }

  Enrollment enrollment;
  Credential& credential = enrollment.credential;
  credential.rp_id = request.rp_id;
  credential.id = copy_bytes(fido_cred_id_ptr(cred.get()), fido_cred_id_len(cred.get()));
  credential.algorithm = kCoseEs256;
  credential.public_key =
      copy_bytes(fido_cred_pubkey_ptr(cred.get()), fido_cred_pubkey_len(cred.get()));
  credential.uv = request.uv;
  credential.sign_count = fido_cred_sigcount(cred.get());
  enrollment.aaguid =
      copy_bytes(fido_cred_aaguid_ptr(cred.get()), fido_cred_aaguid_len(cred.get()));
  enrollment.attestation_format = format;
  if (fido_cred_x5c_len(cred.get()) > 0)  // libfido2 1.12 exposes x5c[0] only
    enrollment.x5c.push_back(
        copy_bytes(fido_cred_x5c_ptr(cred.get()), fido_cred_x5c_len(cred.get())));
  enrollment.auth_data =
      copy_bytes(fido_cred_authdata_raw_ptr(cred.get()), fido_cred_authdata_raw_len(cred.get()));
  enrollment.attestation_signature =
      copy_bytes(fido_cred_sig_ptr(cred.get()), fido_cred_sig_len(cred.get()));
  // fido_cred_verify(_self) checked that the token echoed this credProtect level (not for fmt
  // "none"); for a PIN credential the probe below proves that the token applies it.
  enrollment.cred_protect = cred_protect;

  if (request.uv == UserVerification::pin) {
    if (Status protected_by_uv = probe_uv_required(credential); !protected_by_uv.ok())
      return protected_by_uv;
  }

  // One touch: no proof assertion. The relying party verifies the attestation (its signature
  // covers the credential key and the hmac-secret extension output); a touch-only credential
  // that the key would answer with UV is refused by the first assertion that uses it.
  return enrollment;
}

Result<AssertPtr> Fido2Token::silent_assertion(const Credential& credential) {
  auto challenge = random_bytes(kHashSize);
  if (!challenge) return challenge.error();
  AssertPtr probe(fido_assert_new());
  if (!probe) return Error(Code::internal, "Out of memory while asking the security key.");
  fido_assert_t* a = probe.get();
  if (fido_assert_set_rp(a, credential.rp_id.c_str()) != FIDO_OK ||
      fido_assert_set_clientdata_hash(a, challenge->data(), challenge->size()) != FIDO_OK ||
      fido_assert_allow_cred(a, credential.id.data(), credential.id.size()) != FIDO_OK ||
      fido_assert_set_up(a, FIDO_OPT_FALSE) != FIDO_OK ||
      fido_assert_set_uv(a, FIDO_OPT_OMIT) != FIDO_OK) {
    return Error(Code::invalid_argument, "Invalid credential to look for (rejected by libfido2).");
  }
  return probe;
}

Status Fido2Token::probe_uv_required(const Credential& credential) {
  auto probe = silent_assertion(credential);
  if (!probe) return probe.error();
  fido_assert_t* a = probe->get();
  int answer = kNotSent;
  // No PIN, no extensions, no touch: a token that applied credProtect UV_REQUIRED must not see
  // the credential.
  Status probed = run(
      [&](fido_dev_t* dev) {
        answer = fido_dev_get_assert(dev, a, nullptr);
        return answer == FIDO_ERR_NO_CREDENTIALS ? FIDO_OK : answer;
      },
      kCommandTimeout, false);
  if (answer == FIDO_ERR_NO_CREDENTIALS) return Status::success();
  if (answer == FIDO_OK) {
    return Error(Code::capability_missing,
                 "This security key accepted credProtect but does not apply it: the new "
                 "credential works without the PIN. touchpass cannot protect app passwords with "
                 "this key; update its firmware or use another key.");
  }
  // Not sent (cancelled), a transport failure or a cancel: that error as it is. Any other answer
  // of the token: the protection could not be confirmed.
  if (answer == kNotSent || answer < 0 || answer == FIDO_ERR_KEEPALIVE_CANCEL) return probed;
  return Error(Code::verification_failed,
               "The security key gave an unexpected answer (" + library_error_name(answer) +
                   ") when touchpass checked that the new credential needs the PIN. Do not use "
                   "this key.");
}

Result<bool> Fido2Token::holds_credential(const Credential& credential, const SecretBytes* pin) {
  Operation operation(*this);
  std::optional<SecretBytes> pin_text;
  if (pin != nullptr) {
    auto copy = c_string_pin(*pin);
    if (!copy) return copy.error();
    pin_text = std::move(copy).value();
  }
  auto probe = silent_assertion(credential);
  if (!probe) return probe.error();
  fido_assert_t* a = probe->get();
  int answer = FIDO_OK;
  Status probed = run(
      [&](fido_dev_t* dev) {
        answer = fido_dev_get_assert(dev, a, c_str(pin_text));
        return answer == FIDO_ERR_NO_CREDENTIALS || answer == FIDO_ERR_INVALID_CREDENTIAL ? FIDO_OK
                                                                                          : answer;
      },
      kCommandTimeout, false);
  if (!probed.ok()) return probed.error();
  return answer == FIDO_OK;
}

Status Fido2Token::wait_for_touch(milliseconds timeout) {
  Operation operation(*this);
  // A makeCredential the token answers only after a touch (CTAP "touch to select").
  Status begun =
      run([](fido_dev_t* dev) { return fido_dev_get_touch_begin(dev); }, kCommandTimeout, false);
  if (!begun.ok()) return begun;

  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now());
    if (left <= milliseconds::zero()) {
      abandon_request();
      FailureContext context;
      context.timed_out = true;
      context.presence_expected = true;
      return translate_fido_error(FIDO_ERR_RX, context);
    }
    const milliseconds slice = std::min(left, kTouchPollSlice);
    int touched = 0;
    int answer = kNotSent;
    // fido_dev_get_touch_status: FIDO_OK with touched = 0 while nothing arrived in the slice;
    // an answer after the touch (PIN_INVALID, PIN_NOT_SET, ... or success) sets touched; a
    // denial, timeout or cancel of the token comes back as its error.
    Status polled = run(
        [&](fido_dev_t* dev) {
          answer = fido_dev_get_touch_status(dev, &touched, to_fido_ms(slice));
          return answer;
        },
        slice, true);
    if (!polled.ok()) {
      // The token's answer (a denial, its cancel) ended its request; a cancel() before the poll
      // was sent left the request running.
      if (answer == kNotSent) abandon_request();
      return polled;
    }
    if (touched != 0) return Status::success();
    // A read that failed because the token went away looks like an empty slice.
    if (token_gone()) {
      close_device();
      FailureContext context;
      context.removed = true;
      return translate_fido_error(FIDO_ERR_RX, context);
    }
  }
}

bool Fido2Token::token_gone() {
  if (info_.transport == Transport::virtual_socket) {
    std::lock_guard lock(mutex_);
    return !dev_ || report_io_flags(fido_dev_io_handle(dev_.get())).peer_closed;
  }
  return !path_exists(info_.path);
}

void Fido2Token::abandon_request() {
  fido_dev_t* dev = nullptr;
  {
    std::lock_guard lock(mutex_);
    dev = dev_.get();
  }
  if (dev == nullptr) return;
  // Without mutex_, so that cancel() does not wait for the answer; busy_ is false, so cancel()
  // does not use the device meanwhile, and only this thread replaces dev_.
  fido_dev_cancel(dev);
  // Until the token has answered, its cancelled request keeps it busy: a request sent meanwhile,
  // even on a new channel of a new open, is refused with CTAPHID_ERROR ERR_CHANNEL_BUSY (which
  // libfido2 reports as FIDO_ERR_RX).
  await_cancelled_answer(dev, kCancelAnswerBudget);
  close_device();
}

void Fido2Token::close_device() {
  std::lock_guard lock(mutex_);
  dev_.reset();
}

Result<Assertion> Fido2Token::assert_hmac_secret(const AssertRequest& request) {
  Operation operation(*this);
  auto assertion = assert_locked(request);
  // A touch-only credential's secret is the one without UV (CredRandomWithoutUV); a token that
  // verifies the user anyway would hand out another one.
  if (assertion && request.credential.uv == UserVerification::presence_only &&
      assertion->user_verified) {
    return Error(Code::token_error,
                 "This security key verified the user although the credential was enrolled for "
                 "touch only; its secret would differ. Re-enroll the key.");
  }
  return assertion;
}

Result<Assertion> Fido2Token::assert_locked(const AssertRequest& request) {
  const Credential& credential = request.credential;
  if (credential.rp_id.empty() || credential.id.empty() ||
      request.client_data_hash.size() != kHashSize || request.salt.size() != kHashSize) {
    return Error(Code::invalid_argument,
                 "Invalid assertion request: it needs the credential's RP id and id, a 32-byte "
                 "client data hash and a 32-byte salt.");
  }
  if (credential.algorithm != kCoseEs256 || (credential.public_key.size() != kEs256KeySize &&
                                             credential.public_key.size() != kEs256KeySize + 1)) {
    return Error(Code::invalid_argument,
                 "The stored credential is not an ES256 credential with a valid public key.");
  }
  Es256PkPtr public_key(es256_pk_new());
  if (!public_key || es256_pk_from_ptr(public_key.get(), credential.public_key.data(),
                                       credential.public_key.size()) != FIDO_OK) {
    return Error(Code::invalid_argument, "The stored public key of the credential is invalid.");
  }

  // The UV mode was fixed at enrollment: a PIN credential always sends the PIN, a touch-only
  // credential never does (its hmac-secret output would differ).
  const bool with_pin = credential.uv == UserVerification::pin;
  if (with_pin && request.pin == nullptr) {
    return Error(Code::pin_required,
                 "This credential is protected by the security key's PIN. Enter the PIN and try "
                 "again.");
  }
  std::optional<SecretBytes> pin;
  if (with_pin) {
    auto copy = c_string_pin(*request.pin);
    if (!copy) return copy.error();
    pin = std::move(copy).value();
  }

  AssertPtr assertion(fido_assert_new());
  if (!assertion) return Error(Code::internal, "Out of memory while asking the security key.");
  fido_assert_t* a = assertion.get();
  if (fido_assert_set_rp(a, credential.rp_id.c_str()) != FIDO_OK ||
      fido_assert_set_clientdata_hash(a, request.client_data_hash.data(),
                                      request.client_data_hash.size()) != FIDO_OK ||
      fido_assert_allow_cred(a, credential.id.data(), credential.id.size()) != FIDO_OK ||
      fido_assert_set_extensions(a, FIDO_EXT_HMAC_SECRET) != FIDO_OK ||
      fido_assert_set_hmac_salt(a, request.salt.data(), request.salt.size()) != FIDO_OK ||
      fido_assert_set_up(a, FIDO_OPT_TRUE) != FIDO_OK ||
      fido_assert_set_uv(a, FIDO_OPT_OMIT) != FIDO_OK) {
    return Error(Code::invalid_argument, "Invalid assertion request (rejected by libfido2).");
  }

  Status got = run([&](fido_dev_t* dev) { return fido_dev_get_assert(dev, a, c_str(pin)); },
                   request.timeout, true, request.on_touch);
  if (!got.ok()) return got;

  if (fido_assert_count(a) != 1) return malformed_reply("not exactly one assertion");
  if (fido_assert_hmac_secret_len(a, 0) != kHashSize ||
      fido_assert_hmac_secret_ptr(a, 0) == nullptr) {
    return malformed_reply("no 32-byte hmac-secret output");
  }
  const std::uint8_t flags = fido_assert_flags(a, 0);
  // fido_assert_verify checks UP (asked for above), UV when required, the exact extensions, the
  // RP id hash and the signature over authData || clientDataHash.
  if (with_pin && fido_assert_set_uv(a, FIDO_OPT_TRUE) != FIDO_OK)
    return Error(Code::internal, "libfido2 refused to require UV for verification.");
  const int verified = fido_assert_verify(a, 0, COSE_ES256, public_key.get());
  if (verified != FIDO_OK) {
    return Error(Code::verification_failed,
                 "The security key's answer did not verify against the enrolled credential (" +
                     library_error_name(verified) + "). Do not use this key.");
  }

  const std::uint32_t count = fido_assert_sigcount(a, 0);
  if (!(count == 0 && credential.sign_count == 0) && count <= credential.sign_count) {
    return Error(Code::clone_suspected,
                 "The security key's signature counter did not increase (" + std::to_string(count) +
                     " after " + std::to_string(credential.sign_count) +
                     "): the key may have been cloned. It is refused; contact your administrator.");
  }
  auto auth_data =
      unwrap_cbor_byte_string(fido_assert_authdata_ptr(a, 0), fido_assert_authdata_len(a, 0));
  if (!auth_data) return malformed_reply("authenticator data");

  Assertion out;
  // libfido2 keeps its own copy of the output until the assertion is freed (fido_assert_free
  // wipes its buffers with explicit_bzero); the pointer is const, so we cannot wipe it earlier.
  out.hmac_secret = SecretBytes::copy_of(
      std::span<const std::uint8_t>(fido_assert_hmac_secret_ptr(a, 0), kHashSize));
  out.auth_data = std::move(*auth_data);
  out.signature = copy_bytes(fido_assert_sig_ptr(a, 0), fido_assert_sig_len(a, 0));
  out.sign_count = count;
  out.user_verified = (flags & kFlagUserVerified) != 0;
  return out;
}

}  // namespace touchpass::devices::fido2
