#include "web/api.h"

#include <openssl/crypto.h>

#include "core/bytes.h"
#include "ipc/messages.h"
#include "web/daemon_relay.h"
#include "web/json_body.h"
#include "web/phone_setup_qr.h"
#include "web/phone_setup_route.h"
#include "web/relayed_request.h"
#include "web/session_cookie.h"

namespace touchpass::web {

namespace {

constexpr std::string_view kVersionPrefix = "/api/v1/";

ApiAnswer refuse(unsigned status, Code code, std::string message) {
  return ApiAnswer{status, error_body(Error{code, std::move(message)}), {}, {}};
}

ApiAnswer refuse(const Error& error) {
  return ApiAnswer{http_status_for(error.code), error_body(error), {}, {}};
}

ApiAnswer wrong_method(std::string_view method, std::string allow) {
  ApiAnswer answer = refuse(405, Code::protocol_error,
                            "This path takes " + allow + " only (the method was " +
                                std::string(method.substr(0, 16)) + ").");
  answer.allow = std::move(allow);
  return answer;
}

// Whether `op` acts in the user's session (so a cookie with it must come with its CSRF token).
bool uses_session(ipc::Op op, const nlohmann::json& body) {
  if (op == ipc::Op::signin_begin || op == ipc::Op::phone_setup) return false;
  if (op == ipc::Op::enroll_begin && (body.contains("invitation") || body.contains("password"))) {
    return false;
  }
  return true;
}

}  // namespace

bool Api::owns(std::string_view path) {
  return path == "/api" || path.starts_with("/api/");
}

ApiAnswer Api::handle(const ApiRequest& request) const {
  // A malformed body is refused whatever the path (API.md); the body text is wiped once parsed.
  std::optional<nlohmann::json> body;
  if (request.body && *request.body) {
    auto parsed = parse_json_body(**request.body);
    OPENSSL_cleanse((*request.body)->data(), (*request.body)->size());
    if (!parsed.ok()) return refuse(400, parsed.code(), parsed.error().message);
    body = std::move(*parsed);
  }
  if (request.path == "/api/v1/health") {
    if (request.method != "GET" && request.method != "HEAD") {
      return wrong_method(request.method, "GET, HEAD");
    }
    return ApiAnswer{200, ipc::ok_message({{"daemon", daemon_reachable_()}}), {}, {}};
  }
  if (request.path.starts_with(kVersionPrefix)) {
    const auto op = relayed_op(request.path.substr(kVersionPrefix.size()));
    if (op) return relay(request, *op, std::move(body));
  }
  return refuse(404, Code::not_found, "There is no such API path.");
}

bool Api::session_alive(const SecretBytes& session, const std::string& client) const {
  RelayedRequest asked;
  asked.request.op = ipc::Op::session;
  asked.request.remote = client;
  asked.secret = session.clone();
  return relay_to_daemon(settings_.daemon_socket, asked, settings_.daemon_timeout).ok();
}

ApiAnswer Api::relay(const ApiRequest& request, ipc::Op op,
                     std::optional<nlohmann::json> parsed) const {
  const bool get_allowed = op == ipc::Op::session;
  if (request.method != "POST" && !(get_allowed && request.method == "GET")) {
    return wrong_method(request.method, get_allowed ? "GET, POST" : "POST");
  }
  if (request.method == "POST" && !parsed) {
    return refuse(400, Code::protocol_error,
                  "This request needs a JSON body: {\"v\": 1, …} (API.md).");
  }
  nlohmann::json body = parsed ? std::move(*parsed) : nlohmann::json{{"v", 1}};

  std::optional<SecretBytes> session;
  if (!request.session_cookie.empty()) session = session_from_cookie(request.session_cookie);
  if (request.method == "POST" && !request.session_cookie.empty() && uses_session(op, body)) {
    const bool from_elsewhere =
        !settings_.origin.empty() && !request.origin.empty() && request.origin != settings_.origin;
    if (from_elsewhere || !session || !csrf_.accepts(request.csrf, session->bytes())) {
      return refuse(403, Code::permission_denied,
                    "The request did not come from the touchpass page (its CSRF token is "
                    "missing or old, or it came from another site); reload the page.");
    }
  }

  if (op == ipc::Op::phone_setup && !settings_.mail) {
    return refuse(404, Code::not_found,
                  "This server has no mail settings for phones (touchpass-web's web.conf).");
  }
  auto relayed = relayed_request(op, body, request.client, session);
  if (!relayed.ok()) return refuse(relayed.error());
  auto answer = relay_to_daemon(settings_.daemon_socket, *relayed, settings_.daemon_timeout);
  if (!answer.ok()) {
    ApiAnswer refused = refuse(answer.error());
    // A session touchpassd ended (idle, signed out, restarted) leaves its cookie in the browser,
    // which would then need a CSRF token the page no longer has: clear it.
    if (session && answer.code() == Code::not_found && !session_alive(*session, request.client)) {
      refused.headers.emplace_back("Set-Cookie", cleared_session_cookie());
    }
    return refused;
  }

  ApiAnswer out;
  nlohmann::json& result = answer->result;
  if (op == ipc::Op::phone_setup && result.is_object() && result.contains("user") &&
      result["user"].is_string()) {
    result["mail"] = mail_setup_json(*settings_.mail, result["user"].get<std::string>());
  }
  // The page draws the link's QR code from modules; it offers a phone setup only with mail
  // settings here.
  if (op == ipc::Op::finish) add_phone_setup_qr(result);
  if (op == ipc::Op::services && result.is_object())
    result["phone_setup"] = settings_.mail.has_value();
  const auto secret = answer->secret.bytes();
  if (result.is_object() && result.value("session", false) && secret.size() == kSessionTokenBytes) {
    // A sign-in or an invited enrollment: the session goes into the cookie, never the body.
    out.headers.emplace_back("Set-Cookie", session_cookie(answer->secret));
    result["csrf"] = csrf_.token_for(secret);
  } else if (op == ipc::Op::session && session && result.is_object()) {
    result["csrf"] = csrf_.token_for(session->bytes());
  } else if (!secret.empty() && result.is_object()) {
    result["secret"] = to_base64url(secret);  // a password, shown once
  }
  // Signing out, and revoking a key, which ends every session of its user (this one too).
  const bool signed_out = result.is_object() && result.contains("signed_out") &&
                          result["signed_out"].is_number_integer() &&
                          result["signed_out"].get<std::int64_t>() > 0;
  if (op == ipc::Op::signout || (op == ipc::Op::revoke && signed_out)) {
    out.headers.emplace_back("Set-Cookie", cleared_session_cookie());
  }
  out.body = ipc::ok_message(std::move(result));
  return out;
}

}  // namespace touchpass::web
