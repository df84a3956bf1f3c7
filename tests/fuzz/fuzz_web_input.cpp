// What touchpass-web takes from the network and its configuration, each parser given the same
// bytes: an API request body (and its routing), a request path below the static directory, an
// X-Forwarded-For header from a trusted proxy, web.conf, the checks of relayed requests, the
// autoconfiguration's ?emailaddress=, and the texts an Apple profile carries.
#include <optional>
#include <string>

#include "fuzz.h"
#include "web/api.h"
#include "web/apple_profile.h"
#include "web/autoconfig_route.h"
#include "web/client_address.h"
#include "web/config.h"
#include "web/json_body.h"
#include "web/relayed_request.h"
#include "web/session_cookie.h"
#include "web/static_files.h"

namespace {

const touchpass::web::StaticFiles* static_files() {
  static const auto files = touchpass::web::StaticFiles::open(TOUCHPASS_WEB_STATIC_DIR);
  return files.ok() ? &*files : nullptr;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace touchpass::web;
  const std::string input(reinterpret_cast<const char*>(data), size);
  static auto csrf = CsrfGuard::create();
  static const Api api(ApiSettings{"/nonexistent/touchpassd.sock", "https://mail.example.test"},
                       std::move(*csrf), [] { return false; });
  std::optional<std::string> body = input;
  (void)api.handle(ApiRequest{"POST", "/api/v1/health", &body, {}, {}, {}, "192.0.2.1"});
  std::optional<std::string> none;
  (void)api.handle(ApiRequest{"GET", input, &none, {}, {}, {}, "192.0.2.1"});
  // Every relayed request's checks, with and without a session (nothing is sent).
  if (auto parsed = parse_json_body(input); parsed.ok()) {
    const auto session = touchpass::SecretBytes(kSessionTokenBytes);
    for (const char* op : {"signin-begin", "enroll-begin", "issue-begin", "finish", "revoke"}) {
      nlohmann::json copy = *parsed;
      (void)relayed_request(*relayed_op(op), copy, "192.0.2.1", std::nullopt);
      copy = *parsed;
      (void)relayed_request(*relayed_op(op), copy, "192.0.2.1", session.clone());
    }
  }
  if (const StaticFiles* files = static_files()) (void)files->find(input);
  (void)client_address("192.0.2.1", input, "192.0.2.1");
  (void)parse_config(input, "web.conf");
  static const MailSettings mail = {"example.test",
                                    {"mail.example.test", 993, MailSecurity::ssl},
                                    {"mail.example.test", 587, MailSecurity::starttls},
                                    MailLogin::address};
  static const auto autoconfig = AutoconfigRoute::create(mail);
  (void)autoconfig->document_for(input);
  (void)parse_host_port(input);
  (void)apple_mail_profile(mail, ProfileAccount{"alice", input, input, input});
  return 0;
}

std::vector<std::string> fuzz_seeds() {
  return {
      "{\"v\":1,\"invitation\":\"abcd-efgh\",\"secret\":\"AAAA\",\"label\":\"k\"}",
      "{\"v\":1,\"name\":\"phone\",\"scopes\":[\"imap\",\"smtp\"],\"nested\":{\"a\":[[[1]]]}}",
      "/index.html",
      "/img/../app.js",
      "/api/v1/health",
      "203.0.113.9, 2001:db8::1, ::ffff:192.0.2.3",
      "listen = [::1]:8443\ntls_certificate = /a\ntls_key = /b\nrate_limit_per_minute = 5\n"
      "trusted_proxy = unix\n",
      "origin = https://mail.example.test\nimap_server = [2001:db8::1]:993\n"
      "smtp_security = starttls\nmail_login = address\n",
      "alice@EXAMPLE.test",
      "<&\"]]>",
  };
}

// The largest of them: a configuration file (1 MiB); request bodies stop at max_body_bytes.
std::size_t fuzz_max_len() {
  return 1 << 20;
}
