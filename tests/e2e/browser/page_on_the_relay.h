// The fixture of the page's end-to-end tests: touchpassd, the virtual token and touchpass-web
// (as nobody) deployed as on a server (tests/integration/web/web_stack.h) and headless Chromium
// whose DevTools virtual authenticator is the user's key. Skips the test without root
// (touchpass-web runs as nobody) or Chromium.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "e2e/browser/host_certificate.h"
#include "e2e/browser/page_fixture.h"
#include "integration/web/web_stack.h"

namespace touchpass::testing {

class PageOnTheRelay : public PageInBrowser {
 protected:
  void serve() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: touchpass-web runs as nobody";
    std::string error;
    stack_ = WebStack::start(&error);
    ASSERT_TRUE(stack_) << error;
    page_url_ = stack_->origin() + "/";
    spki_hash_ = HostCertificate::spki_sha256_of(stack_->certificate().certificate);
    ASSERT_FALSE(spki_hash_.empty());
  }

  // Waits until the page reports an error (#alert shown).
  void wait_for_alert() {
    ASSERT_NO_FATAL_FAILURE(wait_until("!document.getElementById('alert').hidden"));
  }

  std::unique_ptr<WebStack> stack_;
};

}  // namespace touchpass::testing
