// The web's identity pieces in core: invitation codes and the configured web origin.
#include <gtest/gtest.h>

#include <cctype>
#include <iterator>
#include <set>
#include <string>

#include "core/bytes.h"
#include "core/invitation_code.h"
#include "core/web_origin.h"

namespace touchpass {
namespace {

TEST(InvitationCode, IsFreshEachTimeAndHashesAsTyped) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    auto code = new_invitation_code();
    ASSERT_TRUE(code.ok());
    ASSERT_EQ(code->grouped().size(), kGroupedPasswordChars);
    seen.emplace(code->grouped());
  }
  EXPECT_EQ(seen.size(), 50u);

  const std::string code = *seen.begin();
  auto hash = invitation_code_hash(code);
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hash->size(), 32u);
  // Typed without dashes, in capitals, with O for 0: the same code.
  std::string typed;
  for (char c : code) {
    if (c == '-') continue;
    typed.push_back(c == '0' ? 'O'
                             : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  EXPECT_EQ(*invitation_code_hash(typed), *hash);
  EXPECT_NE(*invitation_code_hash(*std::next(seen.begin())), *hash);
}

TEST(InvitationCode, TheHashIsPinned) {
  // SHA-256("touchpass/v1/invitation" || "d9tn8rp3n70qkcw9nvpp"), computed independently with
  // `printf 'touchpass/v1/invitationd9tn8rp3n70qkcw9nvpp' | sha256sum`.
  EXPECT_EQ(to_hex(*invitation_code_hash("d9tn-8rp3-n70q-kcw9-nvpp")),
            "08204e13f7666167c51404b694bd08329d22c8d7b737713ffe3e68b566930602");
}

TEST(InvitationCode, WhatIsNotACodeIsRefusedWithASentence) {
  for (const char* typed : {"", "d9tn-8rp3", "d9tn-8rp3-n70q-kcw9-nvpp-x",
                            "d9tn-8rp3-n70q-kcw9-nvp!", "d9tn\t8rp3n70qkcw9nvpp"}) {
    auto hash = invitation_code_hash(typed);
    EXPECT_EQ(hash.code(), Code::invalid_argument) << typed;
  }
  EXPECT_NE(invitation_code_hash("x").error().message.find("invitation code"), std::string::npos);
}

TEST(WebOrigin, ParsesHostAndPort) {
  auto plain = parse_web_origin("https://Mail.Example.org");
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_EQ(plain->origin, "https://mail.example.org");
  EXPECT_EQ(plain->host, "mail.example.org");
  auto port = parse_web_origin("https://mail.example.test:8443");
  ASSERT_TRUE(port.ok());
  EXPECT_EQ(port->origin, "https://mail.example.test:8443");
  EXPECT_EQ(port->host, "mail.example.test");
  EXPECT_EQ(parse_web_origin("https://mail.example.org:443")->origin, "https://mail.example.org");
}

TEST(WebOrigin, RefusesAnythingElse) {
  for (const char* text :
       {"", "http://mail.example.org", "mail.example.org", "https://", "https://mail..org",
        "https://.example.org", "https://mail.example.org/", "https://mail.example.org/path",
        "https://mail.example.org:", "https://mail.example.org:0", "https://mail.example.org:08443",
        "https://mail.example.org:65536", "https://mail.example.org:44x", "https://user@mail.org",
        "https://mail_x.example.org", "https://mail.example.org?x"}) {
    auto parsed = parse_web_origin(text);
    EXPECT_EQ(parsed.code(), Code::invalid_argument) << text;
    if (!parsed.ok()) {
      EXPECT_NE(parsed.error().message.find("web origin"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace touchpass
