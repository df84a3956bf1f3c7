#include "web/api.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>

#include "web/json_body.h"
#include "web/security_headers.h"

namespace touchpass::web {
namespace {

using Json = nlohmann::json;

Api api_with_daemon(bool up) {
  auto csrf = CsrfGuard::create();
  EXPECT_TRUE(csrf.ok());
  return Api(ApiSettings{"/nonexistent/touchpassd.sock", "https://mail.example.test"},
             std::move(*csrf), [up] { return up; });
}

// Answers `method` `path` with `body` (none when nullopt).
ApiAnswer ask(const Api& api, std::string_view method, std::string_view path,
              std::optional<std::string> body) {
  return api.handle(ApiRequest{method, path, &body, {}, {}, {}, "192.0.2.1"});
}

// The error code name of an error answer; fails the test if the body is not one.
std::string error_code(const ApiAnswer& answer) {
  const Json body = Json::parse(answer.body);
  EXPECT_EQ(body.at("v"), 1);
  EXPECT_EQ(body.at("ok"), false);
  EXPECT_TRUE(body.at("error").at("message").is_string());
  return body.at("error").at("code").get<std::string>();
}

TEST(Api, HealthSaysWhetherTheDaemonIsReachable) {
  for (bool up : {true, false}) {
    const ApiAnswer a = ask(api_with_daemon(up), "GET", "/api/v1/health", std::nullopt);
    EXPECT_EQ(a.status, 200u);
    EXPECT_EQ(Json::parse(a.body), (Json{{"v", 1}, {"ok", true}, {"result", {{"daemon", up}}}}));
  }
}

TEST(Api, UnknownPathsAreNotFound) {
  for (const char* path : {"/api", "/api/", "/api/v1", "/api/v2/health", "/api/v1/health/x"}) {
    const ApiAnswer a = ask(api_with_daemon(true), "GET", path, std::nullopt);
    EXPECT_EQ(a.status, 404u) << path;
    EXPECT_EQ(error_code(a), "not_found");
  }
}

TEST(Api, AnotherMethodIsRefusedWithTheAllowedOnes) {
  const ApiAnswer a = ask(api_with_daemon(true), "DELETE", "/api/v1/health", std::nullopt);
  EXPECT_EQ(a.status, 405u);
  EXPECT_EQ(a.allow, "GET, HEAD");
  EXPECT_EQ(error_code(a), "protocol_error");
}

TEST(Api, BodiesAreParsedBeforeRoutingAndMalformedOnesRefused) {
  const Api api = api_with_daemon(true);
  struct Case {
    std::string body;
    const char* code;
  } cases[] = {
      {"{", "protocol_error"},
      {"", "protocol_error"},
      {"[1,2]", "protocol_error"},
      {"{\"v\":1} trailing", "protocol_error"},
      {"{\"x\":1}", "protocol_error"},
      {"{\"v\":2}", "unsupported_version"},
      {"{\"v\":1,\"a\":" + std::string(16, '[') + std::string(16, ']') + "}", "protocol_error"},
  };
  for (const auto& c : cases) {
    const ApiAnswer a = ask(api, "POST", "/api/v1/nothing", c.body);
    EXPECT_EQ(a.status, 400u) << c.body;
    EXPECT_EQ(error_code(a), c.code) << c.body;
  }
  // A well-formed body reaches the router.
  EXPECT_EQ(ask(api, "POST", "/api/v1/nothing", std::string("{\"v\":1}")).status, 404u);
  EXPECT_EQ(ask(api, "POST", "/api/v1/health", std::string("{\"v\":1}")).status, 405u);
}

TEST(JsonBody, AcceptsNestingUpToTheProtocolsLimit) {
  const std::string deepest =
      "{\"v\":1,\"a\":" + std::string(14, '[') + std::string(14, ']') + "}";  // 15 levels
  EXPECT_TRUE(parse_json_body(deepest).ok());
  const std::string too_deep =
      "{\"v\":1,\"a\":" + std::string(16, '[') + std::string(16, ']') + "}";  // 17 levels
  auto parsed = parse_json_body(too_deep);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.code(), Code::protocol_error);
}

TEST(Api, OwnsOnlyPathsBelowApi) {
  EXPECT_TRUE(Api::owns("/api/v1/health"));
  EXPECT_TRUE(Api::owns("/api"));
  EXPECT_FALSE(Api::owns("/apix"));
  EXPECT_FALSE(Api::owns("/"));
}

TEST(HttpStatus, FollowsTheErrorCode) {
  EXPECT_EQ(http_status_for(Code::not_found), 404u);
  EXPECT_EQ(http_status_for(Code::permission_denied), 403u);
  EXPECT_EQ(http_status_for(Code::busy), 429u);
  EXPECT_EQ(http_status_for(Code::internal), 500u);
  EXPECT_EQ(http_status_for(Code::io_error), 503u);
  EXPECT_EQ(http_status_for(Code::protocol_error), 400u);
  EXPECT_EQ(http_status_for(Code::pin_invalid), 400u);
}

bool has(const std::vector<Header>& headers, std::string_view name, std::string_view value) {
  return std::find(headers.begin(), headers.end(), Header{name, value}) != headers.end();
}

TEST(SecurityHeaders, AreAlwaysThereWithHstsOnlyForTlsAndNoStoreOnlyForTheApi) {
  for (bool tls : {false, true}) {
    for (bool api : {false, true}) {
      const auto h = security_headers(tls, api);
      EXPECT_TRUE(has(h, "Content-Security-Policy",
                      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                      "connect-src 'self'; base-uri 'none'; form-action 'self'; "
                      "frame-ancestors 'none'"));
      EXPECT_TRUE(has(h, "X-Content-Type-Options", "nosniff"));
      EXPECT_TRUE(has(h, "Referrer-Policy", "no-referrer"));
      EXPECT_TRUE(has(h, "Cross-Origin-Opener-Policy", "same-origin"));
      EXPECT_EQ(has(h, "Strict-Transport-Security", "max-age=63072000"), tls);
      EXPECT_EQ(has(h, "Cache-Control", "no-store"), api);
    }
  }
}

}  // namespace
}  // namespace touchpass::web
