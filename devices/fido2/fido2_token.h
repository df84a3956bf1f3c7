// Fido2Token: the libfido2 implementation of devices::Token, for FIDO2 USB tokens and virtual
// tokens, each through our transport for libfido2 (report_io.h). Both run exactly the same code
// above the transport: libfido2's CTAPHID, CBOR, PIN protocol and hmac-secret handling.
//
// Decisions beyond devices/token.h:
// - enroll() checks getInfo first. It needs hmac-secret and ES256 always. A PIN credential
//   (uv == pin) also needs clientPin with a PIN set, a PIN in the request, and credProtect (the
//   credential must be unusable without UV, DESIGN.md §4.1). A touch-only credential does not
//   need credProtect: level 2 (UV_OPTIONAL_WITH_ID) adds nothing for a non-resident credential
//   used through an allow-list, so it is requested when offered and skipped otherwise
//   (Enrollment::cred_protect is then 0).
// - Attestation (attestation.h): for every format the rpIdHash and the UP flag of the new
//   credential's authenticator data; then fido_cred_verify when the token sent x5c (signature
//   against x5c[0], no chain validation), fido_cred_verify_self for packed self attestation,
//   nothing more for fmt "none" (the format is recorded; the proving assertion still checks the
//   public key).
// - credProtect: the token's echo of the extension does not prove it applied it. After a PIN
//   credential is made, one getAssertion without PIN, extensions or touch (up=false) must answer
//   NO_CREDENTIALS, or enrollment fails.
// - A touch-only credential asserts with UV omitted; a token that reports UV anyway (some keys
//   with built-in UV always verify) would derive its secret from the other CredRandom, so such an
//   assertion is refused (token_error), at enrollment already by the proving assertion.
// - wait_for_touch: libfido2's touch-to-select (a dummy makeCredential with an empty
//   pinUvAuthParam on a token with clientPin, a real one on a token without), polled in 200 ms
//   slices. A denied touch is presence_denied. After a timeout, or a cancel() the token has not
//   answered yet, the request is cancelled and the device closed, as below; after a removal the
//   device is closed. A cancel() the token answered (CTAP2_ERR_KEEPALIVE_CANCEL) ended the
//   request: the device stays open.
// - Opening: libfido2 reports every failed open as FIDO_ERR_INTERNAL, so the device node (or
//   socket) is opened once more to learn the errno: permission problems and a key held by
//   another program get their own sentences (errors.h, translate_open_errno).
// - After a call that timed out the backend sends CTAPHID_CANCEL, waits (briefly) for the token's
//   answer to the cancelled request and closes the device; it is reopened by the next call (a
//   stale reply can then not be mistaken for the next answer). Waiting for the answer matters:
//   until the token has given it, the cancelled request keeps the token busy, and the next
//   request — on a new channel of a new open too — would be refused with ERR_CHANNEL_BUSY. After
//   a transport failure the device is closed the same way, without the cancel. If the token is
//   gone by then, the next call fails with token_removed.
#pragma once

#include <fido.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>

#include "devices/fido2/handles.h"
#include "devices/token.h"

namespace touchpass::devices::fido2 {

class Fido2Token final : public Token, public Fido2Facet {
 public:
  // How long calls that need no touch (open, getInfo, PIN management) may take.
  static constexpr std::chrono::milliseconds kCommandTimeout{5000};

  // Opens the token described by `info` (transport usb_hid: a hidraw node; virtual_socket: a
  // virtual token's socket; both report_io.h) and reads its getInfo. Errors: no_token when nothing
  // is there (or a virtual token's socket refuses), io_error when it may not be opened
  // (permissions, in use by another program), malformed_reply / token_error when it does not answer
  // like a FIDO2 token.
  static Result<std::unique_ptr<Fido2Token>> open(const TokenInfo& info);

  ~Fido2Token() override;
  Fido2Token(const Fido2Token&) = delete;
  Fido2Token& operator=(const Fido2Token&) = delete;

  const TokenInfo& info() const override { return info_; }
  Fido2Facet* fido2() override { return this; }
  bool pin_set() const override { return pin_set_; }
  Result<Capabilities> capabilities() override;
  Result<int> pin_retries() override;
  Status set_pin(const SecretBytes& new_pin) override;
  Status change_pin(const SecretBytes& old_pin, const SecretBytes& new_pin) override;
  Result<Enrollment> enroll(const EnrollRequest& request) override;
  Result<Assertion> assert_hmac_secret(const AssertRequest& request) override;
  Result<bool> holds_credential(const Credential& credential, const SecretBytes* pin) override;
  Status wait_for_touch(std::chrono::milliseconds timeout) override;
  void cancel() override;

 private:
  class Operation;  // RAII scope of one public operation, see fido2_token.cpp

  explicit Fido2Token(TokenInfo info);

  // Opens dev_ if it is closed. Called by the operation's thread only, without mutex_ (an open
  // can take kCommandTimeout and must not block cancel()).
  Status ensure_open();
  // Runs one libfido2 call on the open device with a time budget, keeping cancel() informed;
  // `on_touch` (if set) is called when the request that waits for a touch is sent
  // (report_io.h). Returns FIDO_OK or the translated error (PIN retries looked up after a wrong
  // PIN).
  template <class Call>
  Status run(Call&& call, std::chrono::milliseconds timeout, bool presence_expected,
             const TouchPrompt& on_touch = {});
  // Translates a failed call and, after a timeout or transport failure, cancels and closes.
  Error fail(int fido_error, std::chrono::steady_clock::duration elapsed,
             std::chrono::milliseconds timeout, bool presence_expected);
  // The token's getInfo, asked once per Fido2Token (the answer changes only with set_pin, which
  // updates it): a ceremony sends no repeated getInfo.
  Result<Capabilities> read_capabilities();
  Result<Assertion> assert_locked(const AssertRequest& request);
  // Proves that the token applied credProtect UV_REQUIRED to `credential`: a getAssertion without
  // PIN, extensions or touch must answer NO_CREDENTIALS. capability_missing when the credential
  // is usable that way, verification_failed for any other answer of the token.
  Status probe_uv_required(const Credential& credential);
  // A getAssertion for `credential` alone, without user presence, extensions or a touch, over a
  // random challenge: how a token is asked whether it holds a credential.
  static Result<AssertPtr> silent_assertion(const Credential& credential);
  // Whether the open device's connection (virtual) or device node (USB) has gone.
  bool token_gone();
  // Ends a request the token may still be working on: sends CTAPHID_CANCEL, waits for the
  // token's answer to the cancelled request (at most 2 s, kCancelAnswerBudget) so that the token is
  // no longer busy with it, then closes (a late reply can then not be taken for the answer to the
  // next request; the next call reopens). Called by the operation's thread, outside run(); does
  // nothing when the device is closed.
  void abandon_request();
  // Closes the device without a word to the token (it has gone, or its connection failed); the
  // next call reopens. Called by the operation's thread.
  void close_device();

  TokenInfo info_;
  std::mutex mutex_;               // guards the members below against cancel()
  DevicePtr dev_;                  // null while closed (before open, after a failure)
  bool in_operation_ = false;      // a public operation is running
  bool busy_ = false;              // ... and is inside a libfido2 call on dev_
  bool cancel_requested_ = false;  // cancel() was called during this operation
  // Kept by the operation's thread only:
  std::optional<Capabilities> capabilities_;  // read_capabilities
  bool pin_set_ = false;                      // pin_set(): from the open's getInfo, or set_pin
};

}  // namespace touchpass::devices::fido2
