#include "cli/remote_json.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "cli/format.h"
#include "core/bytes.h"
#include "ipc/frame.h"

namespace touchpass::cli {

namespace {

using ipc::Json;

void wipe(std::string& text) {
  if (!text.empty()) OPENSSL_cleanse(text.data(), text.size());
}

bool is_code_char(std::uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == ' ';
}

// A CSRF token as touchpass-web makes it (base64url), safe to send back in a header.
bool is_token(const std::string& text) {
  constexpr std::size_t kMaxTokenChars = 128;
  return !text.empty() && text.size() <= kMaxTokenChars &&
         std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
         });
}

// Parses `body` as a JSON object, nesting at most ipc::kMaxJsonDepth levels (refused as it is
// parsed). Json() (discarded) when it is anything else.
Json parse_bounded(std::string_view body) {
  auto [j, too_deep] = ipc::parse_json_bounded(body);
  if (too_deep || j.is_discarded() || !j.is_object()) return Json(Json::value_t::discarded);
  return j;
}

// Wipes every string in `j` that may hold a secret copy ("secret" of a result).
void wipe_secret_field(Json& result) {
  const auto it = result.find("secret");
  if (it == result.end()) return;
  if (it->is_string()) wipe(it->get_ref<std::string&>());
  result.erase(it);
}

Error not_an_answer(long http_status, std::string_view server) {
  const std::string what = printable(server) + " answered HTTP " + std::to_string(http_status) +
                           " without a touchpass answer";
  if (http_status >= 500) {
    return Error{Code::io_error, what + " (is touchpass-web running behind it?)."};
  }
  return Error{Code::protocol_error, what + "; is it touchpass-web?"};
}

}  // namespace

Result<SecretBytes> api_request_body(const ipc::Request& request,
                                     std::span<const std::uint8_t> secret) {
  Json j = Json::parse(request.to_json());
  j.erase("op");
  j.erase("invitation");
  const bool invited = request.op == ipc::Op::enroll_begin && request.invitation;
  std::string head = j.dump();
  if (secret.empty() && !invited) return SecretBytes::copy_of(head);
  // The secret's text is built in buffers reserved once (no reallocation leaves a copy behind)
  // and wiped.
  std::string encoded;
  std::string_view name = "secret";
  if (invited) {
    if (secret.empty() || !std::all_of(secret.begin(), secret.end(), is_code_char)) {
      return Error{Code::invalid_argument,
                   "An invitation code holds only letters, digits, '-' and spaces."};
    }
    name = "invitation";
    encoded.reserve(secret.size());
    encoded.append(reinterpret_cast<const char*>(secret.data()), secret.size());
  } else {
    encoded = to_base64url(secret);
  }
  std::string field;
  field.reserve(name.size() + encoded.size() + 6);
  field.append("\"").append(name).append("\":\"").append(encoded).append("\"}");
  wipe(encoded);
  head.pop_back();  // the closing '}'; `j` always holds "v"
  head += ",";
  SecretBytes body(head.size() + field.size());
  std::copy(head.begin(), head.end(), body.data());
  std::copy(field.begin(), field.end(), body.data() + head.size());
  wipe(field);
  return body;
}

Result<ApiAnswer> api_answer(std::string_view body, long http_status, std::string_view server) {
  Json j = parse_bounded(body);
  if (j.is_discarded()) return not_an_answer(http_status, server);
  const auto v = j.find("v");
  const auto ok = j.find("ok");
  if (v == j.end() || !v->is_number_integer() || ok == j.end() || !ok->is_boolean()) {
    if (auto result = j.find("result"); result != j.end() && result->is_object()) {
      wipe_secret_field(*result);
    }
    return not_an_answer(http_status, server);
  }
  if (v->get<std::int64_t>() != ipc::kProtocolVersion) {
    return Error{Code::unsupported_version, printable(server) + " speaks API version " + v->dump() +
                                                "; this touchpass speaks 1."};
  }
  if (!ok->get<bool>()) {
    const auto error = j.find("error");
    if (error == j.end() || !error->is_object()) return not_an_answer(http_status, server);
    const std::string name = error->value("code", std::string());
    const auto code = ipc::code_from_name(name);
    std::string message = printable(error->value("message", std::string()));
    if (message.empty()) {
      message = printable(server) + " reported an error (" + printable(name) + ").";
    }
    return Error{code.value_or(Code::internal), std::move(message)};
  }
  auto result = j.find("result");
  if (result == j.end() || !result->is_object()) return not_an_answer(http_status, server);
  ApiAnswer out;
  if (const auto secret = result->find("secret"); secret != result->end()) {
    std::optional<Bytes> bytes;
    if (secret->is_string()) bytes = from_base64url(secret->get_ref<const std::string&>());
    wipe_secret_field(*result);
    if (!bytes || bytes->empty() || bytes->size() > ipc::kMaxSecretSize) {
      if (bytes) OPENSSL_cleanse(bytes->data(), bytes->size());
      return Error{Code::protocol_error,
                   printable(server) + " sent a malformed answer (its \"secret\")."};
    }
    out.answer.secret = SecretBytes::copy_of(*bytes);
    OPENSSL_cleanse(bytes->data(), bytes->size());
  }
  if (const auto csrf = result->find("csrf"); csrf != result->end()) {
    if (!csrf->is_string() || !is_token(csrf->get_ref<const std::string&>())) {
      return Error{Code::protocol_error,
                   printable(server) + " sent a malformed answer (its \"csrf\")."};
    }
    out.csrf = csrf->get<std::string>();
    result->erase(csrf);
  }
  out.answer.result = std::move(*result);
  return out;
}

}  // namespace touchpass::cli
