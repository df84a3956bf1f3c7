// The fixture of the browser tests: touchpass-web serving the self-service page over TLS at
// https://mail.example.test:<port>/ (a certificate for that name, which Chromium accepts by its
// key hash only), and a headless Chromium with one page open. No touchpassd runs. Skips the test
// when Chromium is not installed.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "integration/web/web_process.h"
#include "support/chromium.h"
#include "support/virtual_token.h"

namespace touchpass::testing {

inline constexpr const char* kPageHost = "mail.example.test";

// A security key as the page needs it: CTAP 2.1 over USB with a PIN (already verified) and
// hmac-secret (which the browser offers as PRF), touched at once.
nlohmann::json virtual_key_options();

// Headless Chromium with one page open on the self-service page, and what a test does with
// the page: a part of test fixtures (PageInBrowser below, the Dovecot browser test).
class BrowserPage {
 protected:
  // Starts Chromium (trusting the certificate whose key hash is spki_hash_, mail.example.test
  // resolving to 127.0.0.1) and opens a page. A fatal failure when it cannot.
  void start_browser();

  // Navigates to the page (with `fragment`, e.g. "#invite=..."); does not wait for its script.
  void navigate(const std::string& fragment = "");
  // Waits until the page has shown its first view (<html data-ready="true">).
  void wait_until_ready();
  // navigate() and wait_until_ready().
  void open(const std::string& fragment = "");
  // Waits until `expression` is true in the page (polled by the page itself).
  void wait_until(const std::string& expression);

  // The value of `expression` in the page; a failed evaluation fails the test.
  nlohmann::json value(const std::string& expression);
  // Whether the element `id` is laid out (not display: none, e.g. through [hidden]).
  bool shown(const std::string& id);
  // The textContent of the element `id`.
  std::string text(const std::string& id);
  // Clicks the element `id` (a fatal failure when there is none).
  void click(const std::string& id);
  // Checks the checkbox `id` once the page has made it (unchanged when it is checked already).
  void check(const std::string& id);
  // Sets the value of the input `id` as if typed.
  void type(const std::string& id, const std::string& text);

  // Clicks the button `id` once it is enabled again (a flow keeps it disabled until it ends).
  void click_enabled(const std::string& id);
  // Waits until `view` is shown or the page reports an error; the error must be empty.
  void wait_for(const std::string& view);
  // Revokes through the button `id` (one password's, or "revoke all"): clicks it, runs
  // `while_asked` (if any) while the confirmation is open, confirms, and waits until the page
  // reports the revocation; it must report no error.
  void confirm_revoke(const std::string& id, const std::function<void()>& while_asked = {});

  // Signs in on the sign-in view as `user` with the key; the signed-in view must show them.
  void sign_in(const std::string& user);

  // Lays the page out as on a phone (390 x 844 CSS pixels, touch).
  void emulate_phone();
  // Problems of the visible view on the current screen: a page wider than the screen, and
  // controls (buttons, text fields, selects, labels of check boxes) less than 44 px high.
  std::vector<std::string> layout_problems();

  // Exceptions, console errors and browser log errors (CSP violations among them) so far;
  // failed requests ("network" entries: the API's error answers) are expected and left out.
  std::vector<std::string> page_errors() const;

  // Saves a screenshot of the page as `name`.png in the build directory and, when the
  // environment names one in TOUCHPASS_SCREENSHOT_DIR, there too (the docs' pictures).
  void screenshot(const std::string& name);

  // The page's URL without fragment, e.g. "https://mail.example.test:40123/".
  const std::string& page_url() const { return page_url_; }

  std::unique_ptr<Chromium> browser_;
  std::string page_;  // the CDP session of the page
  std::string page_url_;
  std::string spki_hash_;
};

class PageInBrowser : public ::testing::Test, protected BrowserPage {
 protected:
  // serve(), then Chromium with one page open.
  void SetUp() override;
  // touchpass-web, when serve() started it, must still run and stop cleanly on SIGTERM.
  void TearDown() override;

  // Serves the page for mail.example.test on 127.0.0.1: sets page_url_ and spki_hash_ (of the
  // server's certificate). This one starts touchpass-web alone (no touchpassd) in web_; a
  // fixture may serve it otherwise (and may skip the test).
  virtual void serve();

  TempDir dir_;
  std::unique_ptr<WebProcess> web_;
};

}  // namespace touchpass::testing
