// The relay's pure parts: which ops a web user may send, how an API body becomes the local
// protocol's request and secret part, the session cookie, and the CSRF token.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include "core/bytes.h"
#include "core/fd.h"
#include "ipc/frame.h"
#include "web/csrf.h"
#include "web/relayed_request.h"
#include "web/session_cookie.h"

namespace touchpass::web {
namespace {

using Json = nlohmann::json;

// Whether the relayed request can be written as a frame to touchpassd.
bool fits_in_a_frame(const RelayedRequest& r) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return false;
  const UniqueFd writer(fds[0]), reader(fds[1]);
  return ipc::write_frame(writer.get(), r.request.to_json(), r.secret.bytes()).ok();
}

SecretBytes session_of(std::uint8_t fill) {
  SecretBytes s(kSessionTokenBytes);
  for (std::size_t i = 0; i < s.size(); ++i) s.data()[i] = fill;
  return s;
}

TEST(RelayedOp, OnlyWhatAWebUserMaySend) {
  for (const char* op : {"signin-begin", "enroll-begin", "issue-begin", "show-begin", "finish",
                         "list", "tokens", "log", "revoke", "rename", "session", "signout"}) {
    EXPECT_TRUE(relayed_op(op)) << op;
  }
  for (const char* op : {"verify", "unlock", "invite", "devices", "", "health", "LIST"}) {
    EXPECT_FALSE(relayed_op(op)) << op;
  }
}

TEST(RelayedRequest, AddsTheOpAndTheClientsAddressWhateverTheBodySays) {
  Json body = {{"v", 1}, {"op", "verify"}, {"remote", "10.0.0.1"}, {"name", "phone"}};
  auto r = relayed_request(ipc::Op::show_begin, body, "192.0.2.7", std::nullopt);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->request.op, ipc::Op::show_begin);
  EXPECT_EQ(r->request.remote, "192.0.2.7");
  EXPECT_EQ(r->request.name, "phone");
  EXPECT_EQ(r->secret.size(), 0u);  // no session
}

TEST(RelayedRequest, ASessionGoesIntoTheSecretPart) {
  Json body = {{"v", 1}};
  auto r = relayed_request(ipc::Op::list, body, "192.0.2.7", session_of(7));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->secret.size(), kSessionTokenBytes);
  EXPECT_EQ(r->secret.data()[0], 7);
  // A sign-in never carries one.
  Json signin = {{"v", 1}, {"user", "alice"}};
  auto s = relayed_request(ipc::Op::signin_begin, signin, "192.0.2.7", session_of(7));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->secret.size(), 0u);
}

TEST(RelayedRequest, AFinishStartsWithTheSessionSlotThenS) {
  const std::string s_b64 = to_base64url(Bytes(32, 0xAB));
  Json without = {{"v", 1},
                  {"ceremony", to_base64url(Bytes(16, 1))},
                  {"credential", to_base64url(Bytes(16, 2))},
                  {"secret", s_b64}};
  auto r = relayed_request(ipc::Op::finish, without, "192.0.2.7", std::nullopt);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->secret.size(), 64u);
  EXPECT_EQ(r->secret.data()[0], 0);  // zeros without a session
  EXPECT_EQ(r->secret.data()[32], 0xAB);
  EXPECT_FALSE(without.contains("secret"));  // taken out of the body

  Json with = {{"v", 1},
               {"ceremony", to_base64url(Bytes(16, 1))},
               {"credential", to_base64url(Bytes(16, 2))},
               {"secret", s_b64}};
  auto w = relayed_request(ipc::Op::finish, with, "192.0.2.7", session_of(9));
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->secret.data()[0], 9);
  EXPECT_EQ(w->secret.data()[63], 0xAB);
}

TEST(RelayedRequest, AnInvitationOrAnAccountPasswordBecomesTheSecret) {
  Json invited = {{"v", 1}, {"invitation", "abcd-efgh"}, {"label", "k"}};
  auto i = relayed_request(ipc::Op::enroll_begin, invited, "192.0.2.7", session_of(1));
  ASSERT_TRUE(i.ok()) << i.error().message;
  EXPECT_TRUE(i->request.invitation);
  EXPECT_EQ(i->secret.view(), "abcd-efgh");

  Json first = {{"v", 1}, {"user", "alice"}, {"password", "hunter2"}};
  auto p = relayed_request(ipc::Op::enroll_begin, first, "192.0.2.7", std::nullopt);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_TRUE(p->request.account_password);
  EXPECT_EQ(p->secret.view(), "hunter2");

  Json both = {{"v", 1}, {"invitation", "abcd"}, {"password", "hunter2"}};
  EXPECT_EQ(relayed_request(ipc::Op::enroll_begin, both, "192.0.2.7", std::nullopt).code(),
            Code::protocol_error);
}

TEST(RelayedRequest, MalformedFieldsAreProtocolErrors) {
  const Json cases[] = {
      {{"v", 1}, {"secret", 5}},
      {{"v", 1}, {"secret", "not base64url!"}},
      {{"v", 1}, {"secret", std::string(600, 'A')}},
      {{"v", 1}, {"name", 7}},
  };
  for (Json body : cases) {
    EXPECT_EQ(relayed_request(ipc::Op::show_begin, body, "192.0.2.7", std::nullopt).code(),
              Code::protocol_error)
        << body.dump();
  }
  Json long_code = {{"v", 1}, {"invitation", std::string(65, 'a')}};
  EXPECT_EQ(relayed_request(ipc::Op::enroll_begin, long_code, "192.0.2.7", std::nullopt).code(),
            Code::protocol_error);
}

TEST(RelayedRequest, EverySecretItAcceptsFitsInAFrameAndLargerOnesAreProtocolErrors) {
  // A finish's S goes behind the 32-byte session slot; an account password is the secret part.
  const std::size_t largest_s = ipc::kMaxSecretSize - kSessionTokenBytes;
  for (std::size_t size : {largest_s, largest_s + 1}) {
    Json finish = {{"v", 1},
                   {"ceremony", to_base64url(Bytes(16, 1))},
                   {"credential", to_base64url(Bytes(16, 2))},
                   {"secret", to_base64url(Bytes(size, 0x5a))}};
    auto r = relayed_request(ipc::Op::finish, finish, "192.0.2.7", session_of(3));
    if (size > largest_s) {
      EXPECT_EQ(r.code(), Code::protocol_error) << size;
      continue;
    }
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->secret.size(), ipc::kMaxSecretSize);
    EXPECT_TRUE(fits_in_a_frame(*r)) << size;
  }
  for (std::size_t size : {ipc::kMaxSecretSize, ipc::kMaxSecretSize + 1}) {
    Json first = {{"v", 1}, {"password", std::string(size, 'p')}};
    auto r = relayed_request(ipc::Op::enroll_begin, first, "192.0.2.7", std::nullopt);
    if (size > ipc::kMaxSecretSize) {
      EXPECT_EQ(r.code(), Code::protocol_error) << size;
      continue;
    }
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(fits_in_a_frame(*r)) << size;
  }
}

TEST(SessionCookie, IsHostOnlySecureHttpOnlyStrictAndRoundTrips) {
  const SecretBytes session = session_of(0x5A);
  const std::string cookie = session_cookie(session);
  EXPECT_TRUE(cookie.starts_with("__Host-touchpass-session=")) << cookie;
  for (const char* attribute : {"; Path=/", "; Secure", "; HttpOnly", "; SameSite=Strict"}) {
    EXPECT_NE(cookie.find(attribute), std::string::npos) << attribute;
  }
  EXPECT_EQ(cookie.find("Domain"), std::string::npos);
  const std::string value =
      cookie.substr(cookie.find('=') + 1, cookie.find(';') - cookie.find('=') - 1);
  auto back = session_from_cookie(value);
  ASSERT_TRUE(back);
  EXPECT_TRUE(std::equal(back->bytes().begin(), back->bytes().end(), session.bytes().begin()));
  EXPECT_FALSE(session_from_cookie(""));
  EXPECT_FALSE(session_from_cookie(to_base64url(Bytes(31, 1))));
  EXPECT_FALSE(session_from_cookie("%%%"));
  EXPECT_NE(cleared_session_cookie().find("Max-Age=0"), std::string::npos);
}

TEST(CsrfGuard, AcceptsOnlyItsOwnTokenForThatSession) {
  auto guard = CsrfGuard::create();
  auto other = CsrfGuard::create();
  ASSERT_TRUE(guard.ok() && other.ok());
  const SecretBytes a = session_of(1);
  const SecretBytes b = session_of(2);
  const std::string token = guard->token_for(a.bytes());
  EXPECT_EQ(token.size(), 43u);
  EXPECT_TRUE(guard->accepts(token, a.bytes()));
  EXPECT_FALSE(guard->accepts(token, b.bytes()));  // another session
  EXPECT_FALSE(other->accepts(token, a.bytes()));  // another process (restarted)
  EXPECT_FALSE(guard->accepts("", a.bytes()));
  EXPECT_FALSE(guard->accepts(token.substr(1), a.bytes()));
  std::string flipped = token;
  flipped[0] = flipped[0] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(guard->accepts(flipped, a.bytes()));
}

}  // namespace
}  // namespace touchpass::web
