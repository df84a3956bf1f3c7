// Internal to the virtual token: the state behind Authenticator and the CTAP2 command handlers,
// split by command over authenticator.cpp, client_pin.cpp, make_credential.cpp and
// get_assertion.cpp. Handlers return the CBOR body of a successful reply (possibly empty) and
// end a command with any other status by throwing CtapError.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/secret.h"
#include "devices/virtual/authenticator.h"
#include "devices/virtual/cbor_reader.h"
#include "devices/virtual/crypto.h"
#include "devices/virtual/pin_protocol.h"
#include "devices/virtual/state.h"

namespace touchpass::vtoken {

// pinUvAuthToken permissions.
inline constexpr std::uint8_t kPermissionMakeCredential = 0x01;
inline constexpr std::uint8_t kPermissionGetAssertion = 0x02;

inline constexpr std::uint8_t kInvalidSubcommand = 0x3E;
inline constexpr std::uint8_t kUnauthorizedPermission = 0x40;

inline constexpr std::size_t kMaxMsgSize = 1200;

// The pinUvAuthToken of this power-up.
struct PinUvAuthToken {
  SecretBytes value;  // 32 bytes
  std::uint8_t permissions = 0;
  std::optional<std::string> rp_id;  // bound RP id, if any
};

// A decrypted hmac-secret request, kept for getNextAssertion too.
struct HmacSecretRequest {
  const PinProtocol* protocol = nullptr;
  SecretBytes shared_secret;
  SecretBytes salts;  // salt1 (32 bytes) or salt1 || salt2 (64 bytes)
};

// What getNextAssertion continues with.
struct PendingAssertions {
  std::vector<Bytes> credential_ids;  // still to return, in order
  Bytes rp_id_hash;
  Bytes client_data_hash;
  bool user_present = false;
  bool user_verified = false;
  std::optional<HmacSecretRequest> hmac_secret;
};

// One command in progress: the touch waiter and the held state lock (released while waiting).
struct CommandContext {
  PresenceWaiter& presence;
  std::unique_lock<std::mutex>& lock;
};

struct Authenticator::Impl {
  Impl(Config cfg, std::filesystem::path file, State loaded);

  // Handles one request (command byte + CBOR); returns status byte + body. Throws only for
  // internal failures.
  Bytes handle(std::span<const std::uint8_t> request, PresenceWaiter& presence);

  // Commands (see the file comment).
  Bytes get_info() const;
  Bytes make_credential(const cbor_item_t* params, CommandContext& ctx);
  Bytes get_assertion(const cbor_item_t* params, CommandContext& ctx);
  Bytes get_next_assertion();
  Bytes client_pin(const cbor_item_t* params);
  Bytes reset(CommandContext& ctx);

  // clientPIN subcommands.
  Bytes pin_get_retries() const;
  Bytes pin_get_key_agreement() const;
  Bytes pin_set(const CborMap& params, const PinProtocol& protocol);
  Bytes pin_change(const CborMap& params, const PinProtocol& protocol);
  Bytes pin_get_token(const CborMap& params, const PinProtocol& protocol, bool with_permissions);

  // Shared steps.
  // Compares the PIN hash in `pin_hash_enc` with the stored one. A mismatch uses up a retry
  // (persisted), regenerates the key agreement key and throws PIN_INVALID, PIN_BLOCKED or
  // PIN_AUTH_BLOCKED; a match restores the retries.
  void check_pin_hash(const PinProtocol& protocol, const SecretBytes& shared_secret,
                      std::span<const std::uint8_t> pin_hash_enc);
  // Throws PIN_NOT_SET, PIN_BLOCKED or PIN_AUTH_BLOCKED when the PIN cannot be tried now.
  void check_pin_usable() const;
  // Waits for a touch with the state lock released; throws the CTAP status of any answer other
  // than approved.
  void wait_for_presence(CommandContext& ctx);
  // The protocol `value` names if config.pin_protocols offers it; else throws
  // CtapError(kInvalidParameter).
  const PinProtocol& pin_protocol(const cbor_item_t* value) const;
  // The shared secret with the COSE platform key `cose_key`; throws kInvalidParameter when it is
  // not a valid P-256 key and kMissingParameter when parts are missing.
  SecretBytes shared_secret(const PinProtocol& protocol, const cbor_item_t* cose_key) const;
  // Checks pinUvAuthParam = authenticate(pinUvAuthToken, clientDataHash), the token's
  // `permission` and its RP binding (binding an unbound token to `rp_id`). Throws
  // kPinAuthInvalid otherwise.
  void verify_pin_uv_auth(const PinProtocol& protocol, std::span<const std::uint8_t> param,
                          std::span<const std::uint8_t> client_data_hash, std::uint8_t permission,
                          const std::string& rp_id);
  // Handles the zero-length pinUvAuthParam "touch to select" probe; always throws.
  [[noreturn]] void answer_probe(CommandContext& ctx);
  // A fresh pinUvAuthToken without permissions (invalidating the previous one).
  void new_pin_uv_auth_token();
  StoredCredential* find_credential(std::span<const std::uint8_t> id,
                                    std::span<const std::uint8_t> rp_id_hash);
  // The decrypted hmac-secret input {1: platform key, 2: saltEnc, 3: saltAuth, 4: protocol}.
  HmacSecretRequest read_hmac_secret(const cbor_item_t* input) const;
  // PIN protocol 1 if offered (the hmac-secret default); else throws kInvalidParameter.
  const PinProtocol& pin_protocol_one() const;
  // The ids of the credentials an assertion may use, in the order they are returned: the first
  // allowed one of `allow_ids`, or every resident credential of the RP, newest first; credProtect
  // filters both.
  std::vector<Bytes> matching_credentials(const PendingAssertions& request,
                                          const std::optional<std::vector<Bytes>>& allow_ids);
  // Increments the global signature counter and returns the new value.
  std::uint32_t next_sign_count();
  // Persists the state; throws CtapError(kOther) when it cannot.
  void save();
  // The reply body of one assertion of `credential`.
  Bytes assertion_reply(const StoredCredential& credential, const PendingAssertions& request,
                        std::optional<std::size_t> number_of_credentials);

  Config config;
  std::filesystem::path state_file;

  std::mutex command_mutex;  // serializes handle()
  mutable std::mutex mutex;  // guards everything below

  State state;
  crypto::P256Key key_agreement;  // regenerated at power-up and after a wrong PIN
  PinUvAuthToken pin_token;
  int consecutive_pin_failures = 0;  // since power-up
  std::optional<PendingAssertions> pending;
  std::vector<std::string> trace;  // Authenticator::take_command_trace
};

// Whether `presence` is an approval; otherwise the CTAP status to answer with.
std::optional<std::uint8_t> presence_failure(Presence presence);

}  // namespace touchpass::vtoken
