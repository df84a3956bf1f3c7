// The fixture of the page's end-to-end tests: touchpassd, the virtual token and touchpass-web
// (as nobody) deployed as on a server (tests/integration/web/web_stack.h) and headless Chromium
// whose DevTools virtual authenticator is the user's key. Skips the test without root
// (touchpass-web runs as nobody) or Chromium.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "e2e/browser/host_certificate.h"
#include "e2e/browser/page_fixture.h"
#include "integration/web/web_stack.h"

namespace touchpass::testing {

class PageOnTheRelay : public PageInBrowser {
 protected:
  void serve() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: touchpass-web runs as nobody";
    std::string error;
    stack_ = WebStack::start(&error, web_extra_);
    ASSERT_TRUE(stack_) << error;
    page_url_ = stack_->origin() + "/";
    spki_hash_ = HostCertificate::spki_sha256_of(stack_->certificate().certificate);
    ASSERT_FALSE(spki_hash_.empty());
  }

  // Waits until the page reports an error (#alert shown).
  void wait_for_alert() {
    ASSERT_NO_FATAL_FAILURE(wait_until("!document.getElementById('alert').hidden"));
  }

  // Adds the browser's virtual key made with `options`.
  void add_key(const nlohmann::json& options = virtual_key_options()) {
    const CdpAnswer key = browser_->add_virtual_authenticator(page_, options);
    ASSERT_TRUE(key.ok()) << key.error;
  }

  // Invites alice and enrolls the browser's key, named `label`, on the page: signed in, the
  // page lists that one key.
  void enroll_on_page(const std::string& label = "browser key") {
    const std::string code = stack_->invite("alice");
    ASSERT_FALSE(code.empty()) << stack_->deployment().daemon_log();
    ASSERT_NO_FATAL_FAILURE(open("#invite=" + code));
    type("enroll-label", label);
    click("enroll-button");
    ASSERT_NO_FATAL_FAILURE(wait_for("signed-in-view"));
    ASSERT_NO_FATAL_FAILURE(
        wait_until("document.querySelectorAll('#tokens-body tr').length === 1"));
    EXPECT_NE(text("status").find("Your security key was added"), std::string::npos)
        << text("status");
  }

  // The page logged no exceptions, console errors or CSP violations.
  void expect_no_page_errors() {
    const std::vector<std::string> errors = page_errors();
    EXPECT_TRUE(errors.empty()) << ::testing::PrintToString(errors);
  }

  // Lines added to the stack's web.conf (e.g. mail settings), set before SetUp.
  std::string web_extra_;
  std::unique_ptr<WebStack> stack_;
};

}  // namespace touchpass::testing
