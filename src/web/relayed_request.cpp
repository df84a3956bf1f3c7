#include "web/relayed_request.h"

#include <openssl/crypto.h>

#include <array>

#include "core/bytes.h"
#include "ipc/frame.h"
#include "web/session_cookie.h"

namespace touchpass::web {

namespace {

using ipc::Op;

// The secret parts a web client may send: S (32 bytes for FIDO2) with room to spare, within a
// frame's secret part after the session slot a finish carries in front of it.
constexpr std::size_t kMaxSecretBytes = ipc::kMaxSecretSize - kSessionTokenBytes;
// An invitation code as a person may type it (with spaces and dashes).
constexpr std::size_t kMaxInvitationChars = 64;
// An account password (first_key_pam_service): as much as a frame's secret part holds.
constexpr std::size_t kMaxAccountPasswordChars = ipc::kMaxSecretSize;
static_assert(kMaxInvitationChars <= ipc::kMaxSecretSize);

constexpr std::array kRelayed = {
    Op::signin_begin, Op::enroll_begin, Op::issue_begin, Op::show_begin, Op::finish,
    Op::list,         Op::tokens,       Op::log,         Op::revoke,     Op::rename,
    Op::session,      Op::signout,      Op::services,    Op::phone_setup};

// Takes the string `key` out of `body` (wiping it): nothing when absent; an error when it is
// not a string of at most `max` characters.
Result<std::optional<std::string>> take_string(nlohmann::json& body, const char* key,
                                               std::size_t max) {
  if (!body.contains(key)) return std::optional<std::string>();
  nlohmann::json& field = body.at(key);
  if (!field.is_string() || field.get_ref<const std::string&>().size() > max) {
    return Error{Code::protocol_error, std::string("\"") + key + "\" must be a string of at most " +
                                           std::to_string(max) + " characters."};
  }
  std::string value = std::move(field.get_ref<std::string&>());
  body.erase(key);
  return std::optional<std::string>(std::move(value));
}

void wipe(std::string& text) {
  OPENSSL_cleanse(text.data(), text.size());
  text.clear();
}

SecretBytes concatenated(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  SecretBytes both(a.size() + b.size());
  std::copy(a.begin(), a.end(), both.data());
  std::copy(b.begin(), b.end(), both.data() + a.size());
  return both;
}

}  // namespace

std::optional<ipc::Op> relayed_op(std::string_view op) {
  const auto parsed = ipc::op_from_name(op);
  if (!parsed) return std::nullopt;
  for (Op allowed : kRelayed) {
    if (allowed == *parsed) return parsed;
  }
  return std::nullopt;
}

Result<RelayedRequest> relayed_request(ipc::Op op, nlohmann::json& body, const std::string& remote,
                                       const std::optional<SecretBytes>& session) {
  auto secret_text = take_string(body, "secret", 2 * kMaxSecretBytes);
  if (!secret_text.ok()) return secret_text.error();
  SecretBytes own;
  if (*secret_text) {
    auto decoded = from_base64url(**secret_text);
    wipe(**secret_text);
    if (!decoded || decoded->size() > kMaxSecretBytes) {
      if (decoded) OPENSSL_cleanse(decoded->data(), decoded->size());
      return Error{Code::protocol_error,
                   "\"secret\" must be base64url without padding, of at most " +
                       std::to_string(kMaxSecretBytes) + " bytes."};
    }
    own = SecretBytes::copy_of(*decoded);
    OPENSSL_cleanse(decoded->data(), decoded->size());
  }
  // For enroll-begin without a session: the invitation code, or the account password.
  std::optional<std::string> enroll_secret;
  if (op == Op::enroll_begin) {
    auto code = take_string(body, "invitation", kMaxInvitationChars);
    if (!code.ok()) return code.error();
    auto password = take_string(body, "password", kMaxAccountPasswordChars);
    if (!password.ok()) {
      if (*code) wipe(**code);
      return password.error();
    }
    if (*code && *password) {
      wipe(**code);
      wipe(**password);
      return Error{Code::protocol_error,
                   "An enrollment has an invitation or an account password, not both."};
    }
    if (*code) body["invitation"] = true;
    if (*password) body["account_password"] = true;
    enroll_secret = *code ? std::move(*code) : std::move(*password);
  }
  body["op"] = ipc::op_name(op);
  body["remote"] = remote;
  auto request = ipc::Request::parse(body.dump());
  if (!request.ok()) {
    if (enroll_secret) wipe(*enroll_secret);
    return request.error();
  }

  RelayedRequest relayed{std::move(*request), {}};
  const std::array<std::uint8_t, kSessionTokenBytes> no_session{};
  const std::span<const std::uint8_t> session_bytes =
      session ? session->bytes() : std::span<const std::uint8_t>();
  if (op == Op::finish) {
    relayed.secret = concatenated(session ? session_bytes : no_session, own.bytes());
  } else if (op == Op::phone_setup) {
    relayed.secret = std::move(own);  // the link's token; a phone has no session
  } else if (enroll_secret) {
    relayed.secret = SecretBytes::copy_of(*enroll_secret);
    wipe(*enroll_secret);
  } else if (op != Op::signin_begin && session) {
    relayed.secret = SecretBytes::copy_of(session_bytes);
  }
  return relayed;
}

}  // namespace touchpass::web
