#include "web_stack.h"

#include <unistd.h>

#include <fstream>

#include "core/bytes.h"
#include "core/status.h"

namespace touchpass::testing {

namespace {

// Runs touchpass-web as nobody:nogroup, without supplementary groups.
const std::vector<std::string> kAsNobody = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                                            "--clear-groups"};

ApiReply reply_of(HttpAnswer http) {
  ApiReply r{std::move(http), nullptr};
  r.json = ipc::Json::parse(r.http.body, nullptr, false);
  if (r.json.is_discarded()) r.json = nullptr;
  return r;
}

// An error found on the client's side, shaped as an API error.
ApiReply client_error(const Error& e) {
  ApiReply r;
  r.json = {{"v", 1},
            {"ok", false},
            {"error", {{"code", code_name(e.code)}, {"message", "client: " + e.message}}}};
  return r;
}

}  // namespace

std::string ApiReply::code() const {
  if (!json.is_object()) return "not JSON (HTTP " + std::to_string(http.status) + ")";
  if (ok()) return "";
  return json.contains("error") ? json["error"].value("code", "?") : "?";
}

const ipc::Json& ApiReply::result() const {
  static const ipc::Json empty = ipc::Json::object();
  return ok() && json.contains("result") ? json["result"] : empty;
}

std::unique_ptr<WebStack> WebStack::start(std::string* error, const std::string& web_extra) {
  std::unique_ptr<WebStack> stack(new WebStack);
  stack->owned_ = std::make_unique<Deployment>();
  stack->deployment_ = stack->owned_.get();
  stack->web_extra_ = web_extra;
  if (!stack->start_all(error, false)) return nullptr;
  return stack;
}

std::unique_ptr<WebStack> WebStack::start_over(Deployment& deployment, std::string* error,
                                               const std::string& web_extra) {
  std::unique_ptr<WebStack> stack(new WebStack);
  stack->deployment_ = &deployment;
  stack->web_extra_ = web_extra;
  if (!stack->start_all(error, true)) return nullptr;
  return stack;
}

bool WebStack::start_all(std::string* error, bool token_runs) {
  const fs::path dir = deployment_->dir() / "web";
  fs::create_directories(dir);
  certificate_ = TestCertificate::make(dir);
  if (!certificate_) {
    *error = "openssl could not make a certificate";
    return false;
  }
  // touchpass-web (nobody) reads its key, as the packaged unit's user does.
  if (::chown(certificate_->key.c_str(), 65534, 65534) != 0) {
    *error = "cannot give the key to nobody";
    return false;
  }
  fs::copy(TOUCHPASS_WEB_STATIC_DIR, dir / "static", fs::copy_options::recursive);
  web_config_ = dir / "web.conf";
  if (!start_web(error)) return false;
  if (deployment_->daemon_running()) deployment_->stop_daemon();
  deployment_->add_config("gateway_group = nogroup\nweb_origin = " + origin_ + "\n");
  if ((!token_runs && !deployment_->start_token()) || !deployment_->start_daemon()) {
    *error = "touchpassd or the virtual token did not start:\n" + deployment_->daemon_log();
    return false;
  }
  return true;
}

WebStack::~WebStack() = default;

bool WebStack::start_web(std::string* error) {
  const fs::path dir = web_config_.parent_path();
  std::ofstream(web_config_) << "listen = 127.0.0.1:" << port_ << "\n"
                             << "tls_certificate = " << certificate_->certificate.string() << "\n"
                             << "tls_key = " << certificate_->key.string() << "\n"
                             << "static_dir = " << (dir / "static").string() << "\n"
                             << "daemon_socket = " << deployment_->socket().string() << "\n"
                             << web_extra_;
  web_ = WebProcess::start(TOUCHPASS_WEB_PROGRAM, web_config_, error, kAsNobody);
  if (!web_) return false;
  const std::string& url = web_->base_url();
  port_ = static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
  origin_ = "https://" + std::string(kWebHost) + ":" + std::to_string(port_);
  return true;
}

bool WebStack::restart_web(std::string* error) {
  web_.reset();  // SIGKILL
  return start_web(error);
}

WebClient WebStack::new_client(const std::string& name) const {
  WebClient c;
  c.cookie_file = deployment_->dir() / ("cookies-" + name);
  c.origin = origin_;
  return c;
}

HttpRequest WebStack::request(const WebClient& client, const std::string& method,
                              const std::string& path) const {
  HttpRequest r;
  r.method = method;
  r.url = origin_ + path;
  r.ca_certificate = certificate_->certificate;
  r.resolve = {std::string(kWebHost) + ":" + std::to_string(port_) + ":127.0.0.1"};
  r.cookie_file = client.cookie_file;
  if (!client.csrf.empty()) r.headers.push_back("X-Touchpass-CSRF: " + client.csrf);
  if (!client.origin.empty()) r.headers.push_back("Origin: " + client.origin);
  return r;
}

ApiReply WebStack::call(WebClient& client, const std::string& op, ipc::Json body) {
  body["v"] = 1;
  HttpRequest r = request(client, "POST", "/api/v1/" + op);
  r.body = body.dump();
  r.headers.push_back("Content-Type: application/json");
  ApiReply reply = reply_of(http(r));
  if (reply.ok() && reply.result().contains("csrf")) client.csrf = reply.result()["csrf"];
  return reply;
}

ApiReply WebStack::get(WebClient& client, const std::string& path) {
  ApiReply reply = reply_of(http(request(client, "GET", "/api/v1/" + path)));
  if (reply.ok() && reply.result().contains("csrf")) client.csrf = reply.result()["csrf"];
  return reply;
}

HttpAnswer WebStack::get_page(const WebClient& client, const std::string& path) {
  return http(request(client, "GET", path));
}

ApiReply WebStack::ceremony(WebClient& client, const std::string& op, ipc::Json body,
                            const std::function<void(ipc::Json&)>& tamper) {
  ApiReply begun = call(client, op + "-begin", std::move(body));
  if (!begun.ok()) return begun;
  auto finish = finish_body(begun, op);
  if (!finish.ok()) return client_error(finish.error());
  if (tamper) tamper(*finish);
  return call(client, "finish", std::move(*finish));
}

Result<ipc::Json> WebStack::finish_body(const ApiReply& begun, const std::string& op) {
  std::vector<std::string> events;
  auto answer = answer_with_virtual_tokens(deployment_->virtual_dir(), begun.result(),
                                           op == "enroll", "123456", events);
  if (!answer.ok()) return answer.error();
  ipc::Request finish;
  finish.op = ipc::Op::finish;
  finish.finish = std::move(answer->finish);
  ipc::Json body = ipc::Json::parse(finish.to_json());
  body.erase("op");
  body["secret"] = to_base64url(answer->secret.bytes());
  return body;
}

std::string WebStack::invite(const std::string& user) {
  auto client = Client::connect(deployment_->socket());
  if (!client) return "";
  auto invited = client->send(req("invite", {{"user", user}}), "");
  if (!invited || invited->final.kind != ipc::Reply::Kind::ok) return "";
  return invited->secret;
}

std::string WebStack::verify(const std::string& user, const std::string& password,
                             const std::string& service, const std::string& remote) {
  auto client = Client::connect(deployment_->verify_socket());
  if (!client) return "cannot connect";
  ipc::Json request = req("verify", {{"user", user}, {"service", service}});
  if (!remote.empty()) request["remote"] = remote;
  auto verified = client->send(request, password);
  if (!verified) return "connection broke";
  if (verified->final.kind == ipc::Reply::Kind::ok) return "ok";
  return std::string(code_name(verified->final.error.code));
}

}  // namespace touchpass::testing
