#include "cli/format.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

namespace touchpass::cli {
namespace {

using ipc::Json;

// Listings print local time; the tests pin the zone to UTC.
class FormatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
};

TEST_F(FormatTest, TimesAreLocalMinutes) {
  EXPECT_EQ(format_time(0), "1970-01-01 00:00");
  EXPECT_EQ(format_time(1700000000), "2023-11-14 22:13");
}

TEST_F(FormatTest, PrintableReplacesControlCharacters) {
  EXPECT_EQ(printable("a\x1b[31mb\tc\x7f\n"), "a?[31mb?c??");
  EXPECT_EQ(printable("Schlüssel"), "Schlüssel");
}

TEST_F(FormatTest, PrintableReplacesC1Controls) {
  // U+009B is CSI, in UTF-8 C2 9B: followed by "2J" it clears the screen on terminals that
  // take 8-bit controls.
  EXPECT_EQ(printable("a\u009B2Jb"), "a?2Jb");
  EXPECT_EQ(printable("\xC2\x80\xC2\x85\xC2\x9F"), "???");
  EXPECT_EQ(printable("\xC2\xA0"), "\xC2\xA0");  // U+00A0, just past C1, is kept
}

TEST_F(FormatTest, PrintableReplacesBidiOverridesAndIsolates) {
  EXPECT_EQ(printable("key\u202Efdp.exe"), "key?fdp.exe");  // RLO
  EXPECT_EQ(printable("\u202A\u202B\u202C\u202D"), "????");
  EXPECT_EQ(printable("a\u2066b\u2067c\u2068d\u2069e"), "a?b?c?d?e");  // LRI, RLI, FSI, PDI
  EXPECT_EQ(printable("\u200E\u200F\u061C"), "???");                   // the marks
}

TEST_F(FormatTest, PrintableReplacesLineAndParagraphSeparators) {
  EXPECT_EQ(printable("one\u2028two\u2029three"), "one?two?three");
}

TEST_F(FormatTest, PrintableReplacesEachByteOfInvalidUtf8) {
  EXPECT_EQ(printable("a\xFF-z"), "a?-z");
  EXPECT_EQ(printable("a\x9Bz"), "a?z");        // a lone continuation byte (CSI in 8-bit encodings)
  EXPECT_EQ(printable("\xC0\xAF"), "??");       // overlong '/'
  EXPECT_EQ(printable("\xE0\x80\xAF"), "???");  // overlong, three bytes
  EXPECT_EQ(printable("\xED\xA0\x80"), "???");  // a surrogate
  EXPECT_EQ(printable("\xF4\x90\x80\x80"), "????");  // beyond U+10FFFF
  EXPECT_EQ(printable("end\xE2\x82"), "end??");      // cut short
  EXPECT_EQ(printable("\xE2(\xA1"), "?(?");
}

TEST_F(FormatTest, PrintableKeepsOrdinaryNonAscii) {
  EXPECT_EQ(printable("é"), "é");
  EXPECT_EQ(printable("caf\xC3\xA9 \u20AC 日本 \U0001F511\U0001F44D\U0001F3FD"),
            "caf\xC3\xA9 \u20AC 日本 \U0001F511\U0001F44D\U0001F3FD");
  EXPECT_EQ(printable("\u200D\uFEFF"), "\u200D\uFEFF");  // joiners and the BOM are no controls
}

TEST_F(FormatTest, TableAlignsColumnsByCharacters) {
  EXPECT_EQ(render_table({"NAME", "X"}, {{"äöü", "1"}, {"longer name", "2"}}),
            "NAME         X\n"
            "äöü          1\n"
            "longer name  2\n");
}

TEST_F(FormatTest, TokensShowVirtualDevicesAndUsersWhenAsked) {
  const Json result = {{"tokens",
                        {{{"id", 1},
                          {"user", "alice"},
                          {"label", "desk key"},
                          {"device", "YubiKey 5"},
                          {"virtual", false},
                          {"uv", "pin"},
                          {"created", 1700000000}},
                         {{"id", 2},
                          {"user", "alice"},
                          {"label", "test"},
                          {"device", "touchpass virtual token"},
                          {"virtual", true},
                          {"uv", "presence"},
                          {"created", 0}}}}};
  EXPECT_EQ(*tokens_table(result, false),
            "LABEL     DEVICE                             UV        CREATED\n"
            "desk key  YubiKey 5                          pin       2023-11-14 22:13\n"
            "test      touchpass virtual token (virtual)  presence  1970-01-01 00:00\n");
  EXPECT_EQ(tokens_table(result, true)->substr(0, 12), "USER   LABEL");
}

TEST_F(FormatTest, GrantsShowAllNeverAndLastUseWithServiceAndAddress) {
  const Json result = {{"grants",
                        {{{"name", "thunderbird"},
                          {"scopes", {"imap", "smtp"}},
                          {"networks", {"192.168.0.0/16", "2001:db8::/32"}},
                          {"created", 0},
                          {"expires", 1700000000},
                          {"token_label", "desk key"},
                          {"last_used", 86400},
                          {"last_service", "imap"},
                          {"last_address", "192.0.2.7"}},
                         {{"name", "phone"},
                          {"scopes", Json::array()},
                          {"created", 0},
                          {"expires", 0},
                          {"token_label", "desk key"}},
                         {{"name", "old"},
                          {"scopes", Json::array()},
                          {"created", 0},
                          {"expires", 0},
                          {"token_label", "desk key"},
                          {"revoked", 60}}}}};
  EXPECT_EQ(
      *grants_table(result, false),
      "NAME         SCOPES     FROM                          CREATED           EXPIRES           "
      "TOKEN     LAST USED\n"
      "thunderbird  imap,smtp  192.168.0.0/16,2001:db8::/32  1970-01-01 00:00  2023-11-14 22:13  "
      "desk key  1970-01-02 00:00 (imap) from 192.0.2.7\n"
      "phone        all        anywhere                      1970-01-01 00:00  never             "
      "desk key  never\n"
      "old          all        anywhere                      1970-01-01 00:00  revoked           "
      "desk key  never\n");
}

TEST_F(FormatTest, DevicesAndLogEntries) {
  const Json devices = {
      {"devices",
       {{{"path", "/dev/hidraw3"}, {"product", "YubiKey 5"}, {"kind", "fido2"}, {"virtual", false}},
        {{"path", "yubikey-otp:12345678"},
         {"product", "YubiKey"},
         {"kind", "yubikey"},
         {"virtual", false},
         {"serial", 12345678},
         {"firmware", "5.4.3"},
         {"slots", {{{"slot", 1}, {"programmed", false}}, {{"slot", 2}, {"programmed", true}}}}},
        {{"path", "/run/touchpass/virtual/t1"},
         {"product", "virtual"},
         {"kind", "fido2"},
         {"virtual", true}}}}};
  EXPECT_EQ(*devices_table(devices),
            "PATH                       PRODUCT    KIND     VIRTUAL  DETAILS\n"
            "/dev/hidraw3               YubiKey 5  fido2    no\n"
            "yubikey-otp:12345678       YubiKey    yubikey  no       serial 12345678, firmware "
            "5.4.3, slot 1 empty, slot 2 programmed\n"
            "/run/touchpass/virtual/t1  virtual    fido2    yes\n");
  const Json log = {{"entries",
                     {{{"seq", 1},
                       {"time", 60},
                       {"actor", "root"},
                       {"action", "revoke"},
                       {"user", "alice"},
                       {"object", "phone"},
                       {"result", "ok"}}}},
                    {"chain_ok", true}};
  EXPECT_EQ(*log_table(log),
            "TIME              ACTOR  ACTION  USER   OBJECT  RESULT\n"
            "1970-01-01 00:01  root   revoke  alice  phone   ok\n");
}

TEST_F(FormatTest, EmptyListingsSaySo) {
  EXPECT_EQ(*grants_table({{"grants", Json::array()}}, false), "No app passwords.\n");
  EXPECT_EQ(*tokens_table({{"tokens", Json::array()}}, false), "No security keys are enrolled.\n");
  EXPECT_EQ(*devices_table({{"devices", Json::array()}}), "No security keys are present.\n");
  EXPECT_EQ(*log_table({{"entries", Json::array()}}), "The audit log is empty.\n");
}

TEST_F(FormatTest, MalformedListingsAreProtocolErrors) {
  EXPECT_EQ(grants_table(Json::object(), false).code(), Code::protocol_error);
  EXPECT_EQ(grants_table({{"grants", {1, 2}}}, false).code(), Code::protocol_error);
  EXPECT_EQ(grants_table({{"grants", {{{"name", 5}}}}}, false).code(), Code::protocol_error);
  auto missing = tokens_table({{"tokens", {{{"label", "x"}}}}}, false);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("\"device\""), std::string::npos);
  EXPECT_EQ(devices_table({{"devices", {{{"path", "/dev/x"}, {"virtual", "yes"}}}}}).code(),
            Code::protocol_error);
}

TEST_F(FormatTest, PrettyJsonIsSortedAndIndented) {
  EXPECT_EQ(pretty_json({{"b", 1}, {"a", {{"c", true}}}}),
            "{\n  \"a\": {\n    \"c\": true\n  },\n  \"b\": 1\n}\n");
}

TEST_F(FormatTest, PrettyJsonEscapesWhatWouldDisturbATerminal) {
  const Json result = {{"product", "Key\u009B2J\u202E\u2066\u2028\x1B\x7F é \U0001F511"}};
  const std::string text = pretty_json(result);
  EXPECT_EQ(text,
            "{\n  \"product\": \"Key\\u009b2J\\u202e\\u2066\\u2028\\u001b\\u007f é "
            "\U0001F511\"\n}\n");
  EXPECT_EQ(Json::parse(text), result);  // the same JSON
}

TEST_F(FormatTest, ThrottleSummaryNamesLockedSourcesAndRecentFailures) {
  Json source = {{"source", "2001:db8::/64"}, {"failures", 10}, {"locked_until", 1700000000}};
  source["users"] = Json::array({"alice"});
  Json throttle = {{"recent_failures", 12}};
  throttle["locked_sources"] = Json::array({source});
  Json answer;
  answer["throttle"] = throttle;
  EXPECT_EQ(throttle_summary(answer),
            "Failed verifications for this account recently: 12.\n"
            "Locked after too many failures (nothing from them is accepted until then):\n"
            "  2001:db8::/64 until 2023-11-14 22:13\n"
            "An admin lifts a lock with `touchpass unlock --source SOURCE`.\n");

  Json quiet;
  quiet["throttle"] = {{"recent_failures", 0}};
  quiet["throttle"]["locked_sources"] = Json::array();
  EXPECT_EQ(throttle_summary(quiet), "");
  EXPECT_EQ(throttle_summary(Json::object()), "");

  // Hostile values are skipped or made printable.
  Json hostile;
  hostile["throttle"]["locked_sources"] =
      Json::array({Json{{"source", "\x1b[2J"}, {"locked_until", 0}}, Json{{"source", 7}}});
  EXPECT_EQ(throttle_summary(hostile),
            "Locked after too many failures (nothing from them is accepted until then):\n"
            "  ?[2J until 1970-01-01 00:00\n"
            "An admin lifts a lock with `touchpass unlock --source SOURCE`.\n");
}

}  // namespace
}  // namespace touchpass::cli
