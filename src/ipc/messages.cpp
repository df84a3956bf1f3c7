#include "ipc/messages.h"

#include <array>
#include <utility>

#include "ipc/frame.h"
#include "ipc/json_fields.h"

namespace touchpass::ipc {

namespace {

// Serializes without ever throwing: invalid UTF-8 (e.g. from a token's USB descriptor) is
// replaced by U+FFFD instead.
std::string dump(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

constexpr std::array<std::pair<Op, std::string_view>, 18> kOps = {{
    {Op::devices, "devices"},
    {Op::enroll_begin, "enroll-begin"},
    {Op::tokens, "tokens"},
    {Op::issue_begin, "issue-begin"},
    {Op::services, "services"},
    {Op::phone_setup, "phone-setup"},
    {Op::show_begin, "show-begin"},
    {Op::finish, "finish"},
    {Op::list, "list"},
    {Op::revoke, "revoke"},
    {Op::rename, "rename"},
    {Op::log, "log"},
    {Op::verify, "verify"},
    {Op::unlock, "unlock"},
    {Op::invite, "invite"},
    {Op::signin_begin, "signin-begin"},
    {Op::session, "session"},
    {Op::signout, "signout"},
}};

using fields::kMaxFieldBytes;
using fields::opt_bool;
using fields::opt_int;
using fields::opt_string;
using fields::protocol;
using fields::req_string;
constexpr std::size_t kMaxScopes = 32;
// The protocol's bound on an issue's networks; the daemon refuses more than
// kMaxSourceNetworks of them (invalid_argument, with a sentence).
constexpr std::size_t kMaxNetworkItems = 64;

// Checks the "v" field of any message.
Status check_version(const Json& j) {
  const auto it = j.find("v");
  if (it == j.end() || !it->is_number_integer()) {
    return protocol("The message has no protocol version (\"v\").");
  }
  if (it->get<std::int64_t>() != kProtocolVersion) {
    return Error{Code::unsupported_version,
                 "Protocol version " + it->dump() + " is not supported; this touchpass speaks " +
                     std::to_string(kProtocolVersion) + ". Use matching touchpass versions."};
  }
  return {};
}

// The one parse of every message's text, bounded like a frame: at most kMaxJsonSize bytes and
// kMaxJsonDepth levels. A value that would nest deeper is discarded as the parser meets its
// first bracket, so no deep tree is ever built (nor later copied, dumped or destroyed
// recursively). `subject` names the message in the error sentences ("The request").
Result<Json> parse_object(std::string_view text, std::string_view subject) {
  const std::string who(subject);
  if (text.size() > kMaxJsonSize) {
    return protocol(who + " is larger than a frame may be (" + std::to_string(kMaxJsonSize) +
                    " bytes).");
  }
  auto [j, too_deep] = parse_json_bounded(text);
  if (too_deep) {
    return protocol(who + " nests too deeply (more than " + std::to_string(kMaxJsonDepth) +
                    " levels of objects and arrays).");
  }
  if (j.is_discarded()) return protocol(who + " is not valid JSON.");
  if (!j.is_object()) return protocol(who + " is not a JSON object.");
  if (Status s = check_version(j); !s.ok()) return s.error();
  return j;
}

}  // namespace

BoundedJson parse_json_bounded(std::string_view text) {
  BoundedJson out;
  // `depth` counts the containers around the value: 0 for the outermost.
  const Json::parser_callback_t bound_depth = [&out](int depth, Json::parse_event_t event, Json&) {
    const bool opens =
        event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start;
    if (opens && depth >= kMaxJsonDepth) out.too_deep = true;
    return !out.too_deep;
  };
  out.value = Json::parse(text, bound_depth, /*allow_exceptions=*/false);
  if (out.too_deep) out.value = Json(Json::value_t::discarded);
  return out;
}

std::string_view op_name(Op op) {
  for (const auto& [o, name] : kOps)
    if (o == op) return name;
  return "unknown";
}

std::optional<Op> op_from_name(std::string_view name) {
  for (const auto& [o, n] : kOps)
    if (n == name) return o;
  return std::nullopt;
}

Result<Request> Request::parse(std::string_view json_text) {
  auto parsed = parse_object(json_text, "The request");
  if (!parsed.ok()) return parsed.error();
  const Json& j = *parsed;
  auto op_text = req_string(j, "op");
  if (!op_text.ok()) return op_text.error();
  const auto op = op_from_name(*op_text);
  if (!op) return protocol("Unknown operation \"" + *op_text + "\".");

  Request r;
  r.op = *op;
  auto user = opt_string(j, "user");
  if (!user.ok()) return user.error();
  r.user = *user;
  auto all_users = opt_bool(j, "all_users");
  if (!all_users.ok()) return all_users.error();
  r.all_users = *all_users;
  auto remote = opt_string(j, "remote");
  if (!remote.ok()) return remote.error();
  r.remote = remote->value_or("");

  switch (r.op) {
    case Op::enroll_begin: {
      auto label = opt_string(j, "label");
      if (!label.ok()) return label.error();
      r.label = label->value_or("");
      auto uv = opt_string(j, "uv");
      if (!uv.ok()) return uv.error();
      if (*uv && **uv != "pin" && **uv != "presence") {
        return protocol("\"uv\" must be \"pin\" or \"presence\".");
      }
      r.uv = *uv;
      auto kind = opt_string(j, "kind");
      if (!kind.ok()) return kind.error();
      const auto known = token_kind_from_name(kind->value_or("fido2"));
      if (!known) return protocol("\"kind\" must be \"fido2\" or \"yubikey\".");
      r.kind = *known;
      auto slot = opt_int(j, "slot", 0, 2);
      if (!slot.ok()) return slot.error();
      r.slot = *slot == 0 ? 2 : static_cast<int>(*slot);
      auto program = opt_bool(j, "program");
      auto force = opt_bool(j, "force");
      if (!program.ok()) return program.error();
      if (!force.ok()) return force.error();
      r.program = *program;
      r.force = *force;
      auto invitation = opt_bool(j, "invitation");
      if (!invitation.ok()) return invitation.error();
      r.invitation = *invitation;
      auto account_password = opt_bool(j, "account_password");
      if (!account_password.ok()) return account_password.error();
      r.account_password = *account_password;
      if (r.invitation && r.account_password) {
        return Error{Code::protocol_error,
                     "An enrollment has an invitation or an account password, not both."};
      }
      break;
    }
    case Op::issue_begin: {
      auto name = req_string(j, "name");
      if (!name.ok()) return name.error();
      r.name = *name;
      if (const auto it = j.find("scopes"); it != j.end() && !it->is_null()) {
        if (!it->is_array() || it->size() > kMaxScopes) {
          return protocol("\"scopes\" must be a list of at most 32 names.");
        }
        for (const auto& s : *it) {
          if (!s.is_string() || s.get_ref<const std::string&>().size() > kMaxFieldBytes) {
            return protocol("Every scope must be a short string.");
          }
          r.scopes.push_back(s.get<std::string>());
        }
      }
      auto every_service = opt_bool(j, "every_service");
      if (!every_service.ok()) return every_service.error();
      r.every_service = *every_service;
      auto phone_setup = opt_bool(j, "phone_setup");
      if (!phone_setup.ok()) return phone_setup.error();
      r.phone_setup = *phone_setup;
      if (const auto it = j.find("networks"); it != j.end() && !it->is_null()) {
        if (!it->is_array() || it->size() > kMaxNetworkItems) {
          return protocol("\"networks\" must be a list of at most 64 networks.");
        }
        for (const auto& n : *it) {
          if (!n.is_string() || n.get_ref<const std::string&>().size() > kMaxFieldBytes) {
            return protocol("Every network must be a short string.");
          }
          r.networks.push_back(n.get<std::string>());
        }
      }
      auto expires = opt_int(j, "expires", 0, INT64_C(253402300799));  // up to 9999-12-31
      if (!expires.ok()) return expires.error();
      r.expires = *expires;
      break;
    }
    case Op::show_begin: {
      auto name = req_string(j, "name");
      if (!name.ok()) return name.error();
      r.name = *name;
      auto phone_setup = opt_bool(j, "phone_setup");
      if (!phone_setup.ok()) return phone_setup.error();
      r.phone_setup = *phone_setup;
      break;
    }
    case Op::finish: {
      auto finish = Finish::parse(j);
      if (!finish.ok()) return finish.error();
      r.finish = std::move(*finish);
      break;
    }
    case Op::revoke: {
      auto all = opt_bool(j, "all");
      if (!all.ok()) return all.error();
      r.all = *all;
      auto name = opt_string(j, "name");
      if (!name.ok()) return name.error();
      r.name = name->value_or("");
      auto token = opt_string(j, "token");
      if (!token.ok()) return token.error();
      r.token = token->value_or("");
      if (int{r.all} + int{!r.name.empty()} + int{!r.token.empty()} != 1) {
        return protocol("Revoke needs exactly one of \"name\", \"token\" or \"all\": true.");
      }
      break;
    }
    case Op::rename: {
      auto name = req_string(j, "name");
      if (!name.ok()) return name.error();
      auto new_name = req_string(j, "new_name");
      if (!new_name.ok()) return new_name.error();
      r.name = *name;
      r.new_name = *new_name;
      break;
    }
    case Op::log: {
      auto limit = opt_int(j, "limit", 0, 1000000);
      if (!limit.ok()) return limit.error();
      r.limit = static_cast<int>(*limit);
      auto verify = opt_bool(j, "verify");
      if (!verify.ok()) return verify.error();
      r.verify_chain = *verify;
      break;
    }
    case Op::verify: {
      auto user_name = req_string(j, "user");
      if (!user_name.ok()) return user_name.error();
      auto service = req_string(j, "service");
      if (!service.ok()) return service.error();
      r.service = *service;
      break;
    }
    case Op::unlock: {
      auto all = opt_bool(j, "all");
      if (!all.ok()) return all.error();
      r.all = *all;
      auto source = opt_string(j, "source");
      if (!source.ok()) return source.error();
      r.source = source->value_or("");
      // An empty name would match every lock.
      if ((source->has_value() && r.source.empty()) || (r.user && r.user->empty())) {
        return protocol("Unlock needs a source or a user name that is not empty.");
      }
      if (int{r.all} + int{!r.source.empty()} + int{r.user.has_value()} != 1) {
        return protocol("Unlock needs exactly one of \"source\", \"user\" or \"all\": true.");
      }
      break;
    }
    case Op::invite: {
      auto expires = opt_int(j, "expires", 0, INT64_C(253402300799));
      if (!expires.ok()) return expires.error();
      r.expires = *expires;
      break;
    }
    case Op::signin_begin:
      if (!r.user) return protocol("signin-begin needs \"user\".");
      break;
    case Op::devices:
    case Op::services:
    case Op::phone_setup:
    case Op::tokens:
    case Op::list:
    case Op::session:
    case Op::signout:
      break;
  }
  return r;
}

std::string Request::to_json() const {
  Json j = {{"v", kProtocolVersion}, {"op", op_name(op)}};
  if (user) j["user"] = *user;
  if (all_users) j["all_users"] = true;
  if (!remote.empty()) j["remote"] = remote;
  switch (op) {
    case Op::enroll_begin:
      if (!label.empty()) j["label"] = label;
      if (uv) j["uv"] = *uv;
      if (invitation) j["invitation"] = true;
      if (account_password) j["account_password"] = true;
      if (kind == TokenKind::yubikey) {
        j["kind"] = token_kind_name(kind);
        j["slot"] = slot;
        if (program) j["program"] = true;
        if (force) j["force"] = true;
      }
      break;
    case Op::issue_begin:
      j["name"] = name;
      j["scopes"] = scopes;
      if (every_service) j["every_service"] = true;
      if (phone_setup) j["phone_setup"] = true;
      if (!networks.empty()) j["networks"] = networks;
      j["expires"] = expires;
      break;
    case Op::show_begin:
      j["name"] = name;
      if (phone_setup) j["phone_setup"] = true;
      break;
    case Op::finish:
      finish.add_to(j);
      break;
    case Op::revoke:
      if (all) j["all"] = true;
      if (!name.empty()) j["name"] = name;
      if (!token.empty()) j["token"] = token;
      break;
    case Op::rename:
      j["name"] = name;
      j["new_name"] = new_name;
      break;
    case Op::log:
      if (limit > 0) j["limit"] = limit;
      if (verify_chain) j["verify"] = true;
      break;
    case Op::verify:
      j["service"] = service;
      break;
    case Op::unlock:
      if (all) j["all"] = true;
      if (!source.empty()) j["source"] = source;
      break;
    case Op::invite:
      if (expires > 0) j["expires"] = expires;
      break;
    default:
      break;
  }
  return dump(j);
}

Result<Reply> Reply::parse(std::string_view json_text) {
  auto parsed = parse_object(json_text, "The daemon's reply");
  if (!parsed.ok()) return parsed.error();
  Json& j = *parsed;
  Reply r;
  if (const auto ev = j.find("event"); ev != j.end()) {
    if (!ev->is_string()) return protocol("\"event\" must be a string.");
    r.kind = Kind::event;
    r.event = ev->get<std::string>();
    j.erase("event");
    j.erase("v");
    r.body = std::move(j);
    return r;
  }
  const auto ok = j.find("ok");
  if (ok == j.end() || !ok->is_boolean()) return protocol("The answer has no \"ok\".");
  if (ok->get<bool>()) {
    r.kind = Kind::ok;
    const auto res = j.find("result");
    r.body = (res != j.end() && res->is_object()) ? std::move(*res) : Json::object();
    return r;
  }
  r.kind = Kind::error;
  const auto err = j.find("error");
  if (err == j.end() || !err->is_object()) return protocol("The error answer has no \"error\".");
  auto code = opt_string(*err, "code");
  auto message = opt_string(*err, "message");
  if (!code.ok() || !message.ok()) return protocol("The error answer is malformed.");
  r.error.code = code_from_name(code->value_or("")).value_or(Code::internal);
  r.error.message = message->value_or("");
  if (const auto retries = err->find("retries"); retries != err->end()) {
    if (retries->is_number_integer()) r.error.retries_left = retries->get<int>();
  }
  return r;
}

std::string event_message(std::string_view event, Json fields) {
  fields["v"] = kProtocolVersion;
  fields["event"] = event;
  return dump(fields);
}

std::string ok_message(Json result) {
  return dump(Json{{"v", kProtocolVersion}, {"ok", true}, {"result", std::move(result)}});
}

std::string error_message(const Error& error) {
  Json e = {{"code", code_name(error.code)}, {"message", error.message}};
  if (error.retries_left) e["retries"] = *error.retries_left;
  return dump(Json{{"v", kProtocolVersion}, {"ok", false}, {"error", std::move(e)}});
}

std::optional<Code> code_from_name(std::string_view name) {
  for (int i = 0; i <= 200; ++i) {
    const auto code = static_cast<Code>(i);
    if (code_name(code) == name) return code;
  }
  return std::nullopt;
}

}  // namespace touchpass::ipc
