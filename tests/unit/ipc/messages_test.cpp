// The JSON messages: every parse of message text is bounded in size and depth, so a daemon (or
// client) cannot make the other side recurse over a deep tree, and a reply's result is moved,
// not copied.
#include "ipc/messages.h"

#include <gtest/gtest.h>

#include <string>

#include "ipc/frame.h"

namespace touchpass::ipc {
namespace {

// An ok answer whose objects and arrays nest `levels` deep in all (levels >= 2): the message,
// its result, and levels - 2 arrays inside the result.
std::string nested_ok_reply(int levels) {
  const auto arrays = static_cast<std::size_t>(levels - 2);
  return R"({"v":1,"ok":true,"result":{"a":)" + std::string(arrays, '[') +
         std::string(arrays, ']') + "}}";
}

// A request that nests `levels` deep in all (levels >= 1).
std::string nested_request(int levels) {
  const auto arrays = static_cast<std::size_t>(levels - 1);
  return R"({"v":1,"op":"list","x":)" + std::string(arrays, '[') + std::string(arrays, ']') + "}";
}

// How deeply `j` nests (a scalar is 0).
int depth_of(const Json& j) {
  int depth = 0;
  const Json* at = &j;
  while (at->is_structured()) {
    ++depth;
    if (at->empty()) break;
    at = &*at->begin();
  }
  return depth;
}

bool mentions(const Error& error, std::string_view part) {
  return error.message.find(part) != std::string::npos;
}

TEST(ReplyParseTest, AReplyNested100000DeepIsRefusedWithoutCrashing) {
  const auto reply = Reply::parse(nested_ok_reply(100000));
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.code(), Code::protocol_error);
  EXPECT_TRUE(mentions(reply.error(), "larger than a frame")) << reply.error().message;
}

TEST(ReplyParseTest, AReplyThatFitsAFrameButNestsTooDeeplyIsRefusedClearly) {
  const std::string text = nested_ok_reply(32000);
  ASSERT_LE(text.size(), kMaxJsonSize);
  const auto reply = Reply::parse(text);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.code(), Code::protocol_error);
  EXPECT_TRUE(mentions(reply.error(), "The daemon's reply nests too deeply"))
      << reply.error().message;
}

TEST(ReplyParseTest, OneLevelOverTheLimitIsRefused) {
  const auto reply = Reply::parse(nested_ok_reply(kMaxJsonDepth + 1));
  ASSERT_FALSE(reply.ok());
  EXPECT_TRUE(mentions(reply.error(), "nests too deeply")) << reply.error().message;
}

TEST(ReplyParseTest, AReplyAtTheLimitParsesWhole) {
  const auto reply = Reply::parse(nested_ok_reply(kMaxJsonDepth));
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_EQ(reply->kind, Reply::Kind::ok);
  EXPECT_EQ(depth_of(reply->body), kMaxJsonDepth - 1);  // the result, without the message
}

TEST(ReplyParseTest, DeepEventsAndErrorsAreRefusedToo) {
  const std::string deep(kMaxJsonDepth, '[');
  const auto event = Reply::parse(R"({"v":1,"event":"progress","x":)" + deep + "]}");
  EXPECT_TRUE(!event.ok() && mentions(event.error(), "nests too deeply"));
  const auto error =
      Reply::parse(R"({"v":1,"ok":false,"error":{"code":"io_error","x":)" + deep + "]}}");
  EXPECT_TRUE(!error.ok() && mentions(error.error(), "nests too deeply"));
}

TEST(ReplyParseTest, AMessageOverTheFrameLimitIsRefused) {
  const std::string padding(kMaxJsonSize, ' ');
  const auto reply = Reply::parse(R"({"v":1,"ok":true})" + padding);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.code(), Code::protocol_error);
}

TEST(ReplyParseTest, TheResultOfAnOkAnswerIsItsBody) {
  const auto reply = Reply::parse(ok_message({{"grants", Json::array({{{"name", "phone"}}})}}));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->body, Json({{"grants", Json::array({{{"name", "phone"}}})}}));
  const auto empty = Reply::parse(R"({"v":1,"ok":true})");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->body, Json::object());
}

TEST(RequestParseTest, ARequestIsBoundedLikeAReply) {
  const std::string deep = nested_request(32000);
  ASSERT_LE(deep.size(), kMaxJsonSize);
  const auto refused = Request::parse(deep);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), Code::protocol_error);
  EXPECT_TRUE(mentions(refused.error(), "The request nests too deeply")) << refused.error().message;
  EXPECT_FALSE(Request::parse(nested_request(kMaxJsonDepth + 1)).ok());
  EXPECT_EQ(Request::parse(nested_request(kMaxJsonDepth))->op, Op::list);
  EXPECT_EQ(Request::parse(nested_request(100000)).code(), Code::protocol_error);
}

TEST(RequestParseTest, AnEnrollRequestsKindIsATokenKindAndRoundTrips) {
  const auto fido2 = Request::parse(R"({"v":1,"op":"enroll-begin"})");
  ASSERT_TRUE(fido2.ok()) << fido2.error().message;
  EXPECT_EQ(fido2->kind, TokenKind::fido2);  // the default
  Request yubikey;
  yubikey.op = Op::enroll_begin;
  yubikey.kind = TokenKind::yubikey;
  yubikey.slot = 1;
  const auto back = Request::parse(yubikey.to_json());
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->kind, TokenKind::yubikey);
  EXPECT_EQ(back->slot, 1);
  const auto unknown = Request::parse(R"({"v":1,"op":"enroll-begin","kind":"smartcard"})");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.code(), Code::protocol_error);
  EXPECT_TRUE(mentions(unknown.error(), "\"kind\" must be")) << unknown.error().message;
}

TEST(RequestParseTest, AnUnlockNamesExactlyOneThingAndNeverAnEmptyOne) {
  EXPECT_TRUE(Request::parse(R"({"v":1,"op":"unlock","user":"alice"})").ok());
  EXPECT_TRUE(Request::parse(R"({"v":1,"op":"unlock","source":"192.0.2.7"})").ok());
  EXPECT_TRUE(Request::parse(R"({"v":1,"op":"unlock","all":true})").ok());
  // An empty name would match every lock, and the audit log would name nobody.
  for (const char* text :
       {R"({"v":1,"op":"unlock","user":""})", R"({"v":1,"op":"unlock","source":""})",
        R"({"v":1,"op":"unlock","user":"alice","source":"192.0.2.7"})"}) {
    const auto refused = Request::parse(text);
    EXPECT_EQ(refused.code(), Code::protocol_error) << text;
  }
}

TEST(RequestParseTest, AnIssueRequestsNetworksRoundTripAndAreStrings) {
  Request issue;
  issue.op = Op::issue_begin;
  issue.name = "office";
  issue.networks = {"192.168.0.0/16", "2001:db8::/32"};
  const auto back = Request::parse(issue.to_json());
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->networks, issue.networks);
  issue.networks.clear();
  EXPECT_EQ(issue.to_json().find("networks"), std::string::npos);  // anywhere: not sent
  EXPECT_TRUE(Request::parse(issue.to_json())->networks.empty());
  const auto number = Request::parse(R"({"v":1,"op":"issue-begin","name":"a","networks":[10]})");
  EXPECT_EQ(number.code(), Code::protocol_error);
  const auto text = Request::parse(R"({"v":1,"op":"issue-begin","name":"a","networks":"10/8"})");
  EXPECT_EQ(text.code(), Code::protocol_error);
  EXPECT_TRUE(mentions(text.error(), "\"networks\" must be")) << text.error().message;
}

}  // namespace
}  // namespace touchpass::ipc
