// The JSON of the remote channel: a local protocol request as touchpass-web's API body, and the
// API's answers and errors back as touchpassd's.
#include "cli/remote_json.h"

#include <gtest/gtest.h>

#include "core/bytes.h"

namespace touchpass::cli {
namespace {

using ipc::Json;

Json body_json(const ipc::Request& request, std::span<const std::uint8_t> secret = {}) {
  auto body = api_request_body(request, secret);
  EXPECT_TRUE(body.ok()) << body.error().message;
  if (!body.ok()) return Json();
  return Json::parse(body->view());
}

TEST(RemoteJson, RequestBodyIsTheRequestWithoutOp) {
  ipc::Request r;
  r.op = ipc::Op::issue_begin;
  r.name = "phone";
  r.scopes = {"imap"};
  const Json j = body_json(r);
  EXPECT_EQ(j, Json({{"v", 1}, {"name", "phone"}, {"scopes", {"imap"}}, {"expires", 0}}));
}

TEST(RemoteJson, SecretTravelsAsBase64url) {
  ipc::Request r;
  r.op = ipc::Op::finish;
  r.finish.ceremony = Bytes(16, 1);
  r.finish.credential = Bytes(8, 2);
  const Bytes s(32, 0xfb);
  const Json j = body_json(r, s);
  EXPECT_FALSE(j.contains("op"));
  EXPECT_EQ(j["ceremony"], to_base64url(Bytes(16, 1)));
  EXPECT_EQ(j["secret"], to_base64url(s));
}

TEST(RemoteJson, InvitationCodeTravelsAsWritten) {
  ipc::Request r;
  r.op = ipc::Op::enroll_begin;
  r.invitation = true;
  r.label = "desk";
  const std::string code = "k7qm-x9fj 4tca";
  const Json j = body_json(r, bytes_of(code));
  EXPECT_EQ(j["invitation"], code);
  EXPECT_FALSE(j.contains("secret"));
  EXPECT_EQ(j["label"], "desk");
}

TEST(RemoteJson, InvitationCodeWithOtherCharactersIsRefused) {
  ipc::Request r;
  r.op = ipc::Op::enroll_begin;
  r.invitation = true;
  for (const std::string_view code : {"abc\"def", "abc\\def", "abc\ndef", ""}) {
    auto body = api_request_body(r, bytes_of(code));
    ASSERT_FALSE(body.ok()) << code;
    EXPECT_EQ(body.code(), Code::invalid_argument);
  }
}

TEST(RemoteJson, AnswerCarriesResultSecretAndCsrf) {
  const std::string password = "k7qm-x9fj-4tca-2hwe-p3vn";
  const Json body = {{"v", 1},
                     {"ok", true},
                     {"result",
                      {{"grant", {{"name", "phone"}}},
                       {"secret", to_base64url(bytes_of(password))},
                       {"csrf", "abc_DEF-123"}}}};
  auto read = api_answer(body.dump(), 200, "mail.example.org");
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->answer.secret.view(), password);
  EXPECT_EQ(read->csrf, "abc_DEF-123");
  EXPECT_EQ(read->answer.result, Json({{"grant", {{"name", "phone"}}}}));
}

TEST(RemoteJson, ErrorsKeepTheirCodeAndAPrintableMessage) {
  const Json body = {
      {"v", 1},
      {"ok", false},
      {"error", {{"code", "not_found"}, {"message", "Your session\x1b[31m ended."}}}};
  auto read = api_answer(body.dump(), 404, "mail.example.org");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.code(), Code::not_found);
  EXPECT_EQ(read.error().message.find('\x1b'), std::string::npos) << read.error().message;
  EXPECT_NE(read.error().message.find("Your session"), std::string::npos);
}

TEST(RemoteJson, UnknownErrorCodeIsInternalAndEmptyMessageNamesTheServer) {
  const Json body = {{"v", 1}, {"ok", false}, {"error", {{"code", "brand_new"}}}};
  auto read = api_answer(body.dump(), 400, "mail.example.org");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.code(), Code::internal);
  EXPECT_NE(read.error().message.find("mail.example.org"), std::string::npos);
  EXPECT_NE(read.error().message.find("brand_new"), std::string::npos);
}

TEST(RemoteJson, SomethingElseIsAnIoErrorFromA5xxAndAProtocolErrorOtherwise) {
  auto proxy = api_answer("<html>Bad gateway</html>", 502, "mail.example.org");
  ASSERT_FALSE(proxy.ok());
  EXPECT_EQ(proxy.code(), Code::io_error);
  EXPECT_NE(proxy.error().message.find("502"), std::string::npos);
  auto other = api_answer("{\"hello\": 1}", 200, "mail.example.org");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.code(), Code::protocol_error);
  auto deep = api_answer(std::string(40, '[') + std::string(40, ']'), 200, "mail.example.org");
  EXPECT_EQ(deep.code(), Code::protocol_error);
}

TEST(RemoteJson, AnotherVersionIsUnsupported) {
  auto read = api_answer(R"({"v": 2, "ok": true, "result": {}})", 200, "mail.example.org");
  EXPECT_EQ(read.code(), Code::unsupported_version);
}

TEST(RemoteJson, MalformedSecretOrCsrfIsAProtocolError) {
  for (const Json& result : {Json{{"secret", "not base64url!"}}, Json{{"secret", 5}},
                             Json{{"secret", ""}}, Json{{"csrf", "a b"}}, Json{{"csrf", 1}}}) {
    const Json body = {{"v", 1}, {"ok", true}, {"result", result}};
    auto read = api_answer(body.dump(), 200, "mail.example.org");
    EXPECT_EQ(read.code(), Code::protocol_error) << result.dump();
  }
}

}  // namespace
}  // namespace touchpass::cli
