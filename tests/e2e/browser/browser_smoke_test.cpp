// The self-service page in a real headless Chromium, served by the real touchpass-web over TLS
// at https://mail.example.test:<port>/ (a certificate for that name, accepted by its key hash
// only), with a DevTools virtual authenticator as the key. No touchpassd runs: the page must say
// so. The page's own WebAuthn code (webauthn.js, cbor.js) is run against the virtual
// authenticator. Skips itself when Chromium (Debian's package `chromium`) is not installed.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "e2e/browser/page_fixture.h"

namespace touchpass::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

using BrowserSmoke = PageInBrowser;

TEST_F(BrowserSmoke, ThePageLoadsWithoutErrorsAndSaysTheServiceIsUnavailable) {
  ASSERT_NO_FATAL_FAILURE(emulate_phone());
  ASSERT_NO_FATAL_FAILURE(open());

  EXPECT_EQ(value("window.isSecureContext"), true);
  EXPECT_EQ(value("location.hostname"), kPageHost);
  EXPECT_TRUE(shown("signin-view"));
  EXPECT_FALSE(shown("enroll-view"));
  EXPECT_FALSE(shown("signed-in-view"));
  EXPECT_FALSE(shown("loading"));
  EXPECT_TRUE(shown("signin-user"));
  EXPECT_EQ(text("signin-button"), "Sign in with your security key");
  EXPECT_TRUE(shown("alert"));
  EXPECT_NE(text("alert").find("The touchpass service is unavailable right now."),
            std::string::npos)
      << text("alert");

  const std::vector<std::string> layout = layout_problems();
  EXPECT_TRUE(layout.empty()) << ::testing::PrintToString(layout);
  const std::vector<std::string> errors = page_errors();
  EXPECT_TRUE(errors.empty()) << ::testing::PrintToString(errors);
  const fs::path shot = fs::path(TOUCHPASS_TEST_OUTPUT_DIR) / "browser_smoke_signin.png";
  const std::string failed = browser_->screenshot(page_, shot);
  EXPECT_TRUE(failed.empty()) << failed;
  EXPECT_GT(fs::file_size(shot), 1000u);
}

TEST_F(BrowserSmoke, AnInvitationOpensTheEnrollViewAndLeavesTheAddressBar) {
  ASSERT_NO_FATAL_FAILURE(emulate_phone());
  ASSERT_NO_FATAL_FAILURE(open("#invite=abcd-efgh-jkmn"));
  EXPECT_TRUE(shown("enroll-view"));
  EXPECT_FALSE(shown("signin-view"));
  EXPECT_EQ(text("enroll-button"), "Add your security key");
  EXPECT_EQ(value("location.hash"), "");
  EXPECT_EQ(value("location.href"), page_url());
  const std::vector<std::string> layout = layout_problems();
  EXPECT_TRUE(layout.empty()) << ::testing::PrintToString(layout);
  const std::string failed = browser_->screenshot(
      page_, std::filesystem::path(TOUCHPASS_TEST_OUTPUT_DIR) / "browser_smoke_invitation.png");
  EXPECT_TRUE(failed.empty()) << failed;
}

TEST_F(BrowserSmoke, ThePagesWebAuthnCodeGetsPrfResultsFromTheVirtualKey) {
  const CdpAnswer key = browser_->add_virtual_authenticator(page_, virtual_key_options());
  ASSERT_TRUE(key.ok()) << key.error;
  ASSERT_FALSE(key.result.value("authenticatorId", "").empty());
  ASSERT_NO_FATAL_FAILURE(open());
  EXPECT_EQ(value("typeof PublicKeyCredential"), "function");

  // An EnrollOffer as touchpassd makes one for this host; the page's code creates the key and
  // takes the attestation object apart (cbor.js).
  const Json enrolled = value(R"((async () => {
    const b64 = TouchpassWebAuthn.toBase64url;
    const offer = {ceremony: "AAAAAAAAAAAAAAAAAAAAAA", kind: "fido2", rp_id: location.hostname,
      rp_name: "touchpass", user_id: b64(new Uint8Array(16).fill(7)), user_name: "alice",
      origin: location.origin, challenge: b64(new Uint8Array(32).fill(1)), uv: true};
    const fields = await TouchpassWebAuthn.enroll(offer);
    const client = JSON.parse(fields.client_data_json);
    return {fields, client};
  })())");
  ASSERT_TRUE(enrolled.is_object()) << enrolled.dump();
  const Json& fields = enrolled["fields"];
  EXPECT_FALSE(fields.value("credential", "").empty());
  EXPECT_FALSE(fields.value("authenticator_data", "").empty());
  EXPECT_FALSE(fields.value("signature", "").empty());
  EXPECT_EQ(fields.value("attestation_format", ""), "packed");
  EXPECT_EQ(fields.value("device", ""), "browser");
  EXPECT_EQ(enrolled["client"].value("type", ""), "webauthn.create");
  EXPECT_EQ(enrolled["client"].value("challenge", ""),
            "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE");
  EXPECT_EQ(enrolled["client"].value("origin", ""), page_url().substr(0, page_url().size() - 1));

  // Two assertions with the same PRF input give the same 32-byte S; another input another S.
  const Json secrets = value(R"((async () => {
    const b64 = TouchpassWebAuthn.toBase64url;
    const ask = (credential, input, challenge) => TouchpassWebAuthn.assert(
      {ceremony: "AAAAAAAAAAAAAAAAAAAAAA", prf_input: b64(new TextEncoder().encode(input))},
      [{kind: "fido2", credential, rp_id: location.hostname, uv: true,
        challenge: b64(new Uint8Array(32).fill(challenge))}]);
    const credential = ")" + fields.value("credential", "") +
                             R"(";
    const a = await ask(credential, "touchpass/v2/salt one", 2);
    const b = await ask(credential, "touchpass/v2/salt one", 3);
    const c = await ask(credential, "touchpass/v2/salt two", 4);
    return [a.secret, b.secret, c.secret, a.client_data_json, a.credential];
  })())");
  ASSERT_TRUE(secrets.is_array() && secrets.size() == 5) << secrets.dump();
  EXPECT_EQ(secrets[0].get<std::string>().size(), 43u);  // 32 bytes in base64url
  EXPECT_EQ(secrets[0], secrets[1]);
  EXPECT_NE(secrets[0], secrets[2]);
  EXPECT_EQ(secrets[4], fields["credential"]);

  const std::vector<std::string> errors = page_errors();
  EXPECT_TRUE(errors.empty()) << ::testing::PrintToString(errors);
}

// cbor.js's contract, in the browser that runs it: definite lengths only, no tags, floats or
// other simple values, at most 8 levels, every length within the input, no repeated map key,
// integers within 2^53, and nothing left over (decodeFirst allows what follows).
TEST_F(BrowserSmoke, TheCborReaderTakesOnlyWhatItsContractAllows) {
  ASSERT_NO_FATAL_FAILURE(open());
  const Json accepted = value(R"js((() => {
    const map = TouchpassCbor.decode(new Uint8Array(
        [0xa2, 0x63, 0x66, 0x6d, 0x74, 0x64, 0x6e, 0x6f, 0x6e, 0x65, 0x20, 0x42, 1, 2]));
    const first = TouchpassCbor.decodeFirst(new Uint8Array([0x82, 0xf5, 0xf6, 0xff]));
    return [map.get("fmt"), Array.from(map.get(-1)), first.value, first.length];
  })())js");
  EXPECT_EQ(accepted, Json::parse(R"(["none", [1, 2], [true, null], 3])"));
  const Json refused = value(R"js((() => {
    const cases = {
      indefinite: [0x5f, 0x41, 0, 0xff], indefinite_array: [0x9f, 0xff], tag: [0xc1, 0x00],
      float: [0xf9, 0, 0], undefined: [0xf7], short: [0x42, 1], deep: [0x81, 0x81, 0x81,
      0x81, 0x81, 0x81, 0x81, 0x81, 0x00], repeated: [0xa2, 1, 1, 1, 1],
      huge: [0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], long: [0x9a, 0xff, 0xff,
      0xff, 0xff], reserved: [0x1c], leftover: [0x01, 0x02], bad_utf8: [0x61, 0xff], empty: []};
    const accepted = [];
    for (const [name, bytes] of Object.entries(cases)) {
      try {
        TouchpassCbor.decode(new Uint8Array(bytes));
        accepted.push(name);
      } catch (error) {
        if (!(error instanceof Error)) accepted.push(name + " (not an Error)");
      }
    }
    return accepted;
  })())js");
  EXPECT_EQ(refused, Json::array()) << "accepted although the contract refuses them";
  const Json nested_eight = value(
      "TouchpassCbor.decode(new Uint8Array([0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, "
      "0x00]))");
  EXPECT_EQ(nested_eight, Json::parse("[[[[[[[0]]]]]]]"));
}

}  // namespace
}  // namespace touchpass::testing
