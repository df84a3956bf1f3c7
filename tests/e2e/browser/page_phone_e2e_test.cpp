// Phone setup from the self-service page (issue 14), end to end on the fixture of page_e2e_test
// with mail settings in web.conf: the page offers it, draws the link's QR code on a canvas after
// an issue and after a show, and the code — read back from the canvas's PNG with zbarimg — is the
// link that, opened in a browser, gives the same password once. Done wipes the code.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/bytes.h"
#include "e2e/browser/page_on_the_relay.h"
#include "support/qr_reader.h"

namespace touchpass::testing {
namespace {

using Json = nlohmann::json;

class PagePhoneSetup : public PageOnTheRelay {
 protected:
  PagePhoneSetup() {
    web_extra_ =
        "mail_domain = example.test\nimap_server = mail.example.test\n"
        "smtp_server = mail.example.test\n";
  }

  // Waits for the password panel with its phone setup, and returns the link the QR code on the
  // canvas decodes to (zbarimg), which must be the link written under it.
  std::string wait_for_phone_code() {
    wait_for("password-panel");
    wait_until("!document.getElementById('phone-panel').hidden");
    if (HasFatalFailure()) return "";
    const std::string png_base64url =
        value(
            "document.getElementById('phone-qr').toDataURL('image/png').split(',')[1]"
            ".replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '')")
            .get<std::string>();
    const auto png = from_base64url(png_base64url);
    EXPECT_TRUE(png.has_value());
    if (!png) return "";
    std::string why;
    const auto decoded = read_png_qr(std::string(png->begin(), png->end()), &why);
    EXPECT_TRUE(decoded.has_value()) << why;
    if (!decoded) return "";
    EXPECT_EQ(*decoded, text("phone-link"));
    EXPECT_TRUE(decoded->starts_with(page_url() + "setup.html#")) << *decoded;
    EXPECT_NE(text("phone-expires").find("until"), std::string::npos) << text("phone-expires");
    return *decoded;
  }

  // Loads `link` afresh (from a blank page: the setup page takes the token out of its address,
  // so the same link again would only be a jump within that page).
  void open_link(const std::string& link) {
    EXPECT_EQ(browser_->navigate(page_, "about:blank"), "");
    EXPECT_EQ(browser_->navigate(page_, link), "");
  }

  // Opens `link` as a phone would and asks for the settings to type: the password it shows.
  std::string password_through(const std::string& link) {
    open_link(link);
    wait_until(
        "document.getElementById('settings-button') !== null && "
        "!document.getElementById('choose-view').hidden");
    click("settings-button");
    wait_until(
        "!document.getElementById('settings-view').hidden || "
        "!document.getElementById('alarm').hidden");
    EXPECT_EQ(text("alarm"), "");
    return text("setting-password");
  }
};

TEST_F(PagePhoneSetup, AnIssuedPasswordReachesThePhoneThroughTheQrCodeOnce) {
  if (!zbarimg_available()) GTEST_SKIP() << "needs zbarimg (zbar-tools) to read the code";
  ASSERT_NO_FATAL_FAILURE(emulate_phone());  // the page on a small screen; the code must fit
  ASSERT_NO_FATAL_FAILURE(add_key());
  ASSERT_NO_FATAL_FAILURE(enroll_on_page());
  ASSERT_TRUE(shown("issue-phone-option"));
  type("issue-name", "phone");
  check("issue-scope-imap");
  check("issue-scope-smtp");
  check("issue-phone");
  click_enabled("issue-button");
  const std::string link = wait_for_phone_code();
  ASSERT_FALSE(link.empty());
  const std::string password = text("password-text");
  EXPECT_EQ(password.size(), 24u) << password;
  EXPECT_FALSE(value("document.getElementById('issue-phone').checked").get<bool>());
  const std::vector<std::string> layout = layout_problems();
  EXPECT_TRUE(layout.empty()) << ::testing::PrintToString(layout);
  EXPECT_LE(
      value("document.getElementById('phone-qr').getBoundingClientRect().right").get<double>(),
      value("document.documentElement.clientWidth").get<double>());
  screenshot("page_phone_setup");
  expect_no_page_errors();

  EXPECT_EQ(password_through(link), password);
  EXPECT_EQ(stack_->verify("alice", password, "imap"), "ok");
  // The link was taken: opened again it gives nothing.
  open_link(link);
  ASSERT_NO_FATAL_FAILURE(wait_until("document.getElementById('settings-button') !== null"));
  click("settings-button");
  ASSERT_NO_FATAL_FAILURE(wait_until("!document.getElementById('alarm').hidden"));
  EXPECT_EQ(text("setting-password"), "");
}

TEST_F(PagePhoneSetup, AShownPasswordGetsANewCodeAndDoneWipesIt) {
  if (!zbarimg_available()) GTEST_SKIP() << "needs zbarimg (zbar-tools) to read the code";
  ASSERT_NO_FATAL_FAILURE(add_key());
  ASSERT_NO_FATAL_FAILURE(enroll_on_page());
  type("issue-name", "tablet");
  check("issue-scope-imap");
  click_enabled("issue-button");
  ASSERT_NO_FATAL_FAILURE(wait_for("password-panel"));
  EXPECT_FALSE(shown("phone-panel"));  // not asked for
  const std::string password = text("password-text");
  click("done-button");

  ASSERT_NO_FATAL_FAILURE(wait_until("document.getElementById('phone-tablet') !== null"));
  click_enabled("phone-tablet");
  const std::string link = wait_for_phone_code();
  ASSERT_FALSE(link.empty());
  EXPECT_EQ(text("password-text"), password);
  click("done-button");
  EXPECT_FALSE(shown("phone-panel"));
  EXPECT_EQ(text("phone-link"), "");
  EXPECT_EQ(value("document.getElementById('phone-qr').width").get<int>(), 0);
  expect_no_page_errors();
  EXPECT_EQ(password_through(link), password);
}

}  // namespace
}  // namespace touchpass::testing
