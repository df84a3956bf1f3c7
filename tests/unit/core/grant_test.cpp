#include "core/grant.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "unit/core/test_grants.h"

namespace touchpass {
namespace {

using testing::fido2_grant;
using testing::yubikey_grant;

bool contains(const Bytes& haystack, const Bytes& needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

TEST(EncodeGrant, IsDeterministic) {
  EXPECT_EQ(encode_grant(fido2_grant()), encode_grant(fido2_grant()));
  EXPECT_EQ(encode_grant(yubikey_grant()), encode_grant(yubikey_grant()));
}

TEST(EncodeGrant, WritesNineKeysInAscendingOrderStartingWithVersionOne) {
  const Bytes enc = encode_grant(fido2_grant());
  // a9: map of 9; 01 01: version 1; 02 50: grant id, a 16-byte bstr.
  ASSERT_GE(enc.size(), 4u);
  EXPECT_EQ(to_hex(std::span(enc).first(4)), "a9010102");
  EXPECT_EQ(enc[4], 0x50);
}

TEST(EncodeGrant, DoesNotDependOnScopeOrderOrRepeats) {
  Grant a = fido2_grant();
  a.scopes = {"imap", "smtp", "caldav"};
  Grant b = a;
  b.scopes = {"smtp", "caldav", "imap"};
  Grant c = a;
  c.scopes = {"caldav", "imap", "smtp", "imap", "caldav"};
  EXPECT_EQ(encode_grant(a), encode_grant(b));
  EXPECT_EQ(encode_grant(a), encode_grant(c));
}

TEST(EncodeGrant, SortsScopesBytewiseNotByEncodedLength) {
  // Bytewise, "imaps" < "smtp"; ordering by encoded CBOR (length first) would put "smtp" first.
  EXPECT_EQ(canonical_scopes({"smtp", "imaps"}), (std::vector<std::string>{"imaps", "smtp"}));
  EXPECT_EQ(canonical_scopes({"smtp", "imap_x", "imap", "2fa", "imap-ssl", "imaps", "imap"}),
            (std::vector<std::string>{"2fa", "imap", "imap-ssl", "imap_x", "imaps", "smtp"}));
  Grant g = fido2_grant();
  g.scopes = {"smtp", "imaps"};
  // 82: array of 2; 65 "imaps"; 64 "smtp".
  EXPECT_TRUE(contains(encode_grant(g), *from_hex("05826569"
                                                  "6d617073"
                                                  "64736d7470")));
}

TEST(EncodeGrant, EveryFieldChangesTheEncoding) {
  const std::vector<std::function<void(Grant&)>> changes = {
      [](Grant& g) { g.version = 2; },
      [](Grant& g) {
        g.version = 2;
        g.rp_id = "example.org";
      },
      [](Grant& g) {
        g.version = 2;
        g.rp_id = "example.orh";
      },
      [](Grant& g) { g.grant_id = *GrantId::from_bytes(Bytes(16, 0x11)); },
      [](Grant& g) { g.user = "alicf"; },
      [](Grant& g) { g.name = "thunderbire"; },
      [](Grant& g) { g.scopes = {"imap"}; },
      [](Grant& g) {
        g.scopes = {"imap", "smtq"};
      },
      [](Grant& g) { g.scopes = {}; },
      [](Grant& g) { g.created += 1; },
      [](Grant& g) { g.expires += 1; },
      [](Grant& g) { g.expires = 0; },
      [](Grant& g) { g.kind = TokenKind::yubikey; },
      [](Grant& g) { g.credential.back() ^= 1; },
      [](Grant& g) { g.credential.push_back(0); },
      // Moving a character between adjacent text fields must not collide either.
      [](Grant& g) {
        g.user = "alicet";
        g.name = "hunderbird";
      },
  };
  std::set<Bytes> seen = {encode_grant(fido2_grant())};
  for (std::size_t i = 0; i < changes.size(); ++i) {
    Grant g = fido2_grant();
    changes[i](g);
    EXPECT_TRUE(seen.insert(encode_grant(g)).second) << "change " << i << " collided";
  }
}

TEST(ValidateGrant, AcceptsTheVectorGrants) {
  EXPECT_TRUE(validate_grant(fido2_grant()).ok()) << validate_grant(fido2_grant()).message();
  EXPECT_TRUE(validate_grant(yubikey_grant()).ok()) << validate_grant(yubikey_grant()).message();
}

TEST(ValidateGrant, AcceptsVersion2WithAnRpIdForFido2Only) {
  Grant g = fido2_grant();
  g.version = kGrantVersionV2;
  g.rp_id = "mail.example-1.org";
  EXPECT_TRUE(validate_grant(g).ok()) << validate_grant(g).message();
  g.rp_id = "localhost";
  EXPECT_TRUE(validate_grant(g).ok()) << validate_grant(g).message();
  Grant y = yubikey_grant();
  y.version = kGrantVersionV2;
  EXPECT_TRUE(validate_grant(y).ok()) << validate_grant(y).message();
  y.rp_id = "example.org";
  EXPECT_FALSE(validate_grant(y).ok());
}

TEST(ValidateGrant, AcceptsTheLimits) {
  Grant g = fido2_grant();
  g.name = "";
  for (int i = 0; i < 64; ++i) g.name += "\xc3\xa9";  // 64 x U+00E9: 64 characters, 128 bytes
  g.scopes = {std::string(32, 'a'), "0-9_z", "a"};
  g.credential = Bytes(1023, 0x01);
  g.user = std::string(256, 'u');
  g.expires = g.created + 1;
  EXPECT_TRUE(validate_grant(g).ok()) << validate_grant(g).message();
  g.scopes = {};
  g.expires = 0;
  g.name = "Mail \xf0\x9f\x93\xa7 (work) \xe2\x80\x94 laptop";  // emoji and em dash are fine
  EXPECT_TRUE(validate_grant(g).ok()) << validate_grant(g).message();
}

struct BadGrant {
  const char* what;
  std::function<void(Grant&)> change;
  const char* message_part;  // a word the message must contain
};

TEST(ValidateGrant, RejectsBadGrantsWithAClearSentence) {
  const std::vector<BadGrant> cases = {
      {"version 3", [](Grant& g) { g.version = 3; }, "version 3"},
      {"version 0", [](Grant& g) { g.version = 0; }, "version"},
      {"v2 FIDO2 without rp id",
       [](Grant& g) {
         g.version = 2;
         g.rp_id = "";
       },
       "relying party"},
      {"v2 rp id upper case",
       [](Grant& g) {
         g.version = 2;
         g.rp_id = "Example.org";
       },
       "relying party"},
      {"v2 rp id empty label",
       [](Grant& g) {
         g.version = 2;
         g.rp_id = "example..org";
       },
       "relying party"},
      {"v2 rp id with port",
       [](Grant& g) {
         g.version = 2;
         g.rp_id = "example.org:443";
       },
       "relying party"},
      {"v2 rp id label ending in -",
       [](Grant& g) {
         g.version = 2;
         g.rp_id = "mail-.example.org";
       },
       "relying party"},
      {"v1 with rp id", [](Grant& g) { g.rp_id = "example.org"; }, "relying party"},
      {"unset id", [](Grant& g) { g.grant_id = GrantId(); }, "grant id"},
      {"empty user", [](Grant& g) { g.user = ""; }, "no user name"},
      {"user too long", [](Grant& g) { g.user = std::string(257, 'u'); }, "256"},
      {"user with space", [](Grant& g) { g.user = "al ice"; }, "user name"},
      {"user with tab", [](Grant& g) { g.user = "al\tice"; }, "user name"},
      {"user with nbsp", [](Grant& g) { g.user = "al\xc2\xa0ice"; }, "user name"},
      {"user with colon", [](Grant& g) { g.user = "al:ice"; }, "':'"},
      {"user with slash", [](Grant& g) { g.user = "../root"; }, "'/'"},
      {"user with NUL", [](Grant& g) { g.user = std::string("al\0ice", 6); }, "control"},
      {"user starting with -", [](Grant& g) { g.user = "-alice"; }, "'-'"},
      {"user not UTF-8", [](Grant& g) { g.user = "al\xffice"; }, "UTF-8"},
      {"empty name", [](Grant& g) { g.name = ""; }, "1 to 64"},
      {"name too long", [](Grant& g) { g.name = std::string(65, 'n'); }, "1 to 64"},
      {"name with newline", [](Grant& g) { g.name = "thunder\nbird"; }, "control"},
      {"name with DEL", [](Grant& g) { g.name = "thunder\x7f"; }, "control"},
      {"name with C1", [](Grant& g) { g.name = "thunder\xc2\x85"; }, "control"},
      {"name with RLO", [](Grant& g) { g.name = "mail\xe2\x80\xaegpj.exe"; }, "control"},
      {"name with isolate", [](Grant& g) { g.name = "mail\xe2\x81\xa6x"; }, "control"},
      {"name with leading space", [](Grant& g) { g.name = " thunderbird"; }, "space"},
      {"name with trailing space", [](Grant& g) { g.name = "thunderbird "; }, "space"},
      {"name truncated UTF-8", [](Grant& g) { g.name = "mail\xc3"; }, "UTF-8"},
      {"name overlong UTF-8", [](Grant& g) { g.name = "\xc0\xaf"; }, "UTF-8"},
      {"name UTF-8 surrogate", [](Grant& g) { g.name = "\xed\xa0\x80"; }, "UTF-8"},
      {"name above U+10FFFF", [](Grant& g) { g.name = "\xf4\x90\x80\x80"; }, "UTF-8"},
      {"empty scope",
       [](Grant& g) {
         g.scopes = {"imap", ""};
       },
       "Scope 2"},
      {"upper-case scope", [](Grant& g) { g.scopes = {"IMAP"}; }, "lower-case"},
      {"scope with dot", [](Grant& g) { g.scopes = {"imap.ssl"}; }, "Scope 1"},
      {"scope with space", [](Grant& g) { g.scopes = {"imap smtp"}; }, "Scope 1"},
      {"scope too long", [](Grant& g) { g.scopes = {std::string(33, 's')}; }, "1 to 32"},
      {"repeated scope",
       [](Grant& g) {
         g.scopes = {"imap", "smtp", "imap"};
       },
       "more than once"},
      {"expires at creation", [](Grant& g) { g.expires = g.created; }, "expiry"},
      {"expires before creation", [](Grant& g) { g.expires = g.created - 1; }, "expiry"},
      {"empty FIDO2 credential", [](Grant& g) { g.credential = {}; }, "credential id"},
      {"huge FIDO2 credential", [](Grant& g) { g.credential = Bytes(1024, 1); }, "1023"},
      {"YubiKey credential too short",
       [](Grant& g) {
         g.kind = TokenKind::yubikey;
         g.credential = {0, 0xbc, 0x61, 0x4e};
       },
       "5 bytes"},
      {"YubiKey slot 3",
       [](Grant& g) {
         g.kind = TokenKind::yubikey;
         g.credential = {0, 0xbc, 0x61, 0x4e, 3};
       },
       "slot must be 1 or 2"},
      {"YubiKey slot 0",
       [](Grant& g) {
         g.kind = TokenKind::yubikey;
         g.credential = {0, 0xbc, 0x61, 0x4e, 0};
       },
       "slot must be 1 or 2"},
  };
  for (const BadGrant& c : cases) {
    Grant g = fido2_grant();
    c.change(g);
    const Status s = validate_grant(g);
    ASSERT_FALSE(s.ok()) << c.what;
    EXPECT_EQ(s.code(), Code::invalid_argument) << c.what;
    EXPECT_NE(s.message().find(c.message_part), std::string_view::npos)
        << c.what << ": \"" << s.message() << "\"";
  }
}

TEST(ValidateGrant, DoesNotEchoAnInvalidScope) {
  Grant g = fido2_grant();
  g.scopes = {"evil\x1b[2J"};
  const Status s = validate_grant(g);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().find("evil"), std::string_view::npos);
}

TEST(GrantId, IsExactlySixteenBytes) {
  const Bytes sixteen(16, 0x5a);
  const Result<GrantId> id = GrantId::from_bytes(sixteen);
  ASSERT_TRUE(id.ok());
  EXPECT_TRUE(std::equal(id->bytes().begin(), id->bytes().end(), sixteen.begin()));
  EXPECT_FALSE(id->is_zero());
  EXPECT_TRUE(GrantId().is_zero());
  for (std::size_t n : {0u, 15u, 17u, 32u}) {
    const Result<GrantId> bad = GrantId::from_bytes(Bytes(n, 1));
    ASSERT_FALSE(bad.ok()) << n;
    EXPECT_EQ(bad.code(), Code::invalid_argument);
  }
}

TEST(TokenKind, NamesRoundTrip) {
  EXPECT_EQ(token_kind_name(TokenKind::fido2), "fido2");
  EXPECT_EQ(token_kind_name(TokenKind::yubikey), "yubikey");
  EXPECT_EQ(token_kind_from_name("fido2"), TokenKind::fido2);
  EXPECT_EQ(token_kind_from_name("yubikey"), TokenKind::yubikey);
  EXPECT_EQ(token_kind_from_name("FIDO2"), std::nullopt);
  EXPECT_EQ(token_kind_from_name(""), std::nullopt);
}

TEST(YubiKeyCredential, IsTheBigEndianSerialThenTheSlot) {
  EXPECT_EQ(to_hex(encode_yubikey_credential({12345678, YubiKeySlot::two})), "00bc614e02");
  EXPECT_EQ(to_hex(encode_yubikey_credential({0xfffffffe, YubiKeySlot::one})), "fffffffe01");
  const Result<YubiKeyCredential> parsed = parse_yubikey_credential(*from_hex("00bc614e02"));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->serial, 12345678u);
  EXPECT_EQ(parsed->slot, YubiKeySlot::two);
  const YubiKeyCredential max{0xffffffff, YubiKeySlot::one};
  EXPECT_EQ(*parse_yubikey_credential(encode_yubikey_credential(max)), max);
}

TEST(YubiKeyCredential, RejectsOtherShapes) {
  for (const char* hex : {"", "00bc614e", "00bc614e0201", "00bc614e00", "00bc614e03"}) {
    const Result<YubiKeyCredential> r = parse_yubikey_credential(*from_hex(hex));
    ASSERT_FALSE(r.ok()) << hex;
    EXPECT_EQ(r.code(), Code::invalid_argument) << hex;
  }
}

// The name and scope rules alone, as the CLI checks them before the key is asked.
TEST(ValidateGrant, NameAndScopeRulesCanBeCheckedAlone) {
  const std::vector<std::string> good_names = {"thunderbird", "my phone", "Büro",
                                               std::string(64, 'x')};
  for (const auto& name : good_names) EXPECT_TRUE(validate_grant_name(name).ok()) << name;
  const std::vector<std::string> bad_names = {"",          " x",  "x ", std::string(65, 'x'),
                                              "a\x1b[2Jb", "\xff"};
  for (const auto& name : bad_names) {
    EXPECT_EQ(validate_grant_name(name).code(), Code::invalid_argument) << name;
  }
  EXPECT_TRUE(validate_grant_scopes({}).ok());
  EXPECT_TRUE(validate_grant_scopes({"imap", "smtp", "x_y-1"}).ok());
  const std::vector<std::vector<std::string>> bad_scopes = {
      {"IMAP"}, {"imap", "imap"}, {""}, {std::string(33, 'a')}};
  for (const auto& scopes : bad_scopes) {
    EXPECT_EQ(validate_grant_scopes(scopes).code(), Code::invalid_argument) << scopes.front();
  }
}

}  // namespace
}  // namespace touchpass
