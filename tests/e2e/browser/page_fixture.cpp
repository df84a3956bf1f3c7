#include "e2e/browser/page_fixture.h"

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "e2e/browser/host_certificate.h"

namespace touchpass::testing {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

// `text` as a JavaScript string literal (JSON's string syntax is a subset).
std::string js_string(const std::string& text) {
  return Json(text).dump();
}

}  // namespace

Json virtual_key_options() {
  // hasHmacSecret, not hasPrf: with hasPrf Chromium's virtual key speaks CTAP's "prf" extension,
  // whose enrollment leaves no hmac-secret output in the authenticator data (touchpassd refuses
  // it); with hasHmacSecret the browser maps PRF onto hmac-secret, as with a USB security key.
  return {{"protocol", "ctap2"},
          {"ctap2Version", "ctap2_1"},
          {"transport", "usb"},
          {"hasResidentKey", true},
          {"hasUserVerification", true},
          {"isUserVerified", true},
          {"hasHmacSecret", true},
          {"hasPrf", false},
          {"automaticPresenceSimulation", true}};
}

void PageInBrowser::SetUp() {
  if (Chromium::program().empty()) {
    GTEST_SKIP() << "Chromium is not installed (/usr/bin/chromium; .ci/install-deps --tests "
                    "installs Debian's package chromium)";
  }
  serve();
  if (IsSkipped() || HasFatalFailure()) return;
  start_browser();
}

void BrowserPage::start_browser() {
  Chromium::Options options;
  options.host_resolver_rules = "MAP " + std::string(kPageHost) + " 127.0.0.1";
  options.trusted_spki_hash = spki_hash_;
  std::string error;
  browser_ = Chromium::start(options, &error);
  ASSERT_TRUE(browser_) << error;
  page_ = browser_->open_page(&error);
  ASSERT_FALSE(page_.empty()) << error;
}

void PageInBrowser::serve() {
  const auto certificate = HostCertificate::make(dir_.path(), kPageHost);
  ASSERT_TRUE(certificate) << "openssl could not make a certificate for " << kPageHost;
  const fs::path config = dir_.path() / "web.conf";
  std::ofstream(config) << "listen = 127.0.0.1:0\n"
                        << "tls_certificate = " << certificate->certificate.string() << "\n"
                        << "tls_key = " << certificate->key.string() << "\n"
                        << "static_dir = " << TOUCHPASS_WEB_STATIC_DIR << "\n"
                        << "daemon_socket = " << (dir_.path() / "touchpassd.sock").string() << "\n";
  std::string error;
  web_ = WebProcess::start(TOUCHPASS_WEB_PROGRAM, config, &error);
  ASSERT_TRUE(web_) << error;
  const std::string port = web_->base_url().substr(web_->base_url().rfind(':') + 1);
  page_url_ = "https://" + std::string(kPageHost) + ":" + port + "/";
  spki_hash_ = certificate->spki_sha256;
}

void PageInBrowser::TearDown() {
  if (!web_) return;
  EXPECT_TRUE(web_->running()) << "touchpass-web stopped:\n" << web_->output();
  const int status = web_->terminate();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << web_->output();
}

void BrowserPage::navigate(const std::string& fragment) {
  const std::string failed = browser_->navigate(page_, page_url_ + fragment);
  ASSERT_TRUE(failed.empty()) << failed << "\nChromium:\n" << browser_->output();
}

void BrowserPage::wait_until(const std::string& expression) {
  const CdpAnswer done = browser_->evaluate(page_,
                                            "new Promise((resolve) => {"
                                            "  const check = () => (" +
                                                expression +
                                                ") ? resolve(true) : setTimeout(check, 20);"
                                                "  check();"
                                                "})");
  ASSERT_TRUE(done.ok()) << expression << ": " << done.error;
}

void BrowserPage::wait_until_ready() {
  wait_until("document.documentElement.dataset.ready === 'true'");
}

void BrowserPage::open(const std::string& fragment) {
  ASSERT_NO_FATAL_FAILURE(navigate(fragment));
  ASSERT_NO_FATAL_FAILURE(wait_until_ready());
}

Json BrowserPage::value(const std::string& expression) {
  const CdpAnswer answer = browser_->evaluate(page_, expression);
  EXPECT_TRUE(answer.ok()) << expression << ": " << answer.error;
  return answer.result.value("value", Json());
}

bool BrowserPage::shown(const std::string& id) {
  return value("getComputedStyle(document.getElementById(" + js_string(id) +
               ")).display !== 'none'") == true;
}

std::string BrowserPage::text(const std::string& id) {
  const Json t = value("document.getElementById(" + js_string(id) + ").textContent");
  return t.is_string() ? t.get<std::string>() : std::string();
}

void BrowserPage::click(const std::string& id) {
  const Json clicked = value("(() => { const e = document.getElementById(" + js_string(id) +
                             "); if (!e) return false; e.click(); return true; })()");
  ASSERT_EQ(clicked, true) << "no element #" << id;
}

void BrowserPage::check(const std::string& id) {
  ASSERT_NO_FATAL_FAILURE(wait_until("document.getElementById(" + js_string(id) + ") !== null"));
  const Json checked = value("(() => { const e = document.getElementById(" + js_string(id) +
                             "); if (!e.checked) e.click(); return e.checked; })()");
  ASSERT_EQ(checked, true) << "#" << id << " cannot be checked";
}

void BrowserPage::type(const std::string& id, const std::string& text) {
  const Json typed = value("(() => { const e = document.getElementById(" + js_string(id) +
                           "); if (!e) return false; e.value = " + js_string(text) +
                           "; e.dispatchEvent(new Event('input', {bubbles: true})); return true; "
                           "})()");
  ASSERT_EQ(typed, true) << "no element #" << id;
}

void BrowserPage::emulate_phone() {
  const CdpAnswer set = browser_->call(
      "Emulation.setDeviceMetricsOverride",
      {{"width", 390}, {"height", 844}, {"deviceScaleFactor", 2}, {"mobile", true}}, page_);
  ASSERT_TRUE(set.ok()) << set.error;
  const CdpAnswer touch =
      browser_->call("Emulation.setTouchEmulationEnabled", {{"enabled", true}}, page_);
  ASSERT_TRUE(touch.ok()) << touch.error;
}

std::vector<std::string> BrowserPage::layout_problems() {
  const Json problems = value(R"((() => {
    const problems = [];
    if (document.documentElement.scrollWidth > window.innerWidth) {
      problems.push("the page is " + document.documentElement.scrollWidth +
                    " px wide on a screen of " + window.innerWidth);
    }
    const controls = document.querySelectorAll(
        "button, input[type=text], select, label.check");
    for (const c of controls) {
      const box = c.getBoundingClientRect();
      if (box.width === 0 && box.height === 0) continue;  // not shown
      if (box.height < 44) {
        problems.push((c.id || c.textContent.trim()) + " is " + box.height + " px high");
      }
    }
    return problems;
  })())");
  std::vector<std::string> list;
  for (const Json& p : problems) list.push_back(p.get<std::string>());
  return list;
}

std::vector<std::string> BrowserPage::page_errors() const {
  std::vector<std::string> errors;
  for (const CdpEvent& e : browser_->events()) {
    if (e.method == "Runtime.exceptionThrown") {
      errors.push_back("exception: " + e.params.dump());
    } else if (e.method == "Runtime.consoleAPICalled" && e.params.value("type", "") == "error") {
      errors.push_back("console.error: " + e.params.dump());
    } else if (e.method == "Log.entryAdded") {
      const Json entry = e.params.value("entry", Json::object());
      if (entry.value("level", "") == "error" && entry.value("source", "") != "network") {
        errors.push_back("log: " + entry.dump());
      }
    }
  }
  return errors;
}

void BrowserPage::click_enabled(const std::string& id) {
  ASSERT_NO_FATAL_FAILURE(wait_until("!document.getElementById(" + js_string(id) + ").disabled"));
  click(id);
}

void BrowserPage::wait_for(const std::string& view) {
  ASSERT_NO_FATAL_FAILURE(wait_until("!document.getElementById(" + js_string(view) +
                                     ").hidden || !document.getElementById('alert').hidden"));
  ASSERT_EQ(text("alert"), "");
}

void BrowserPage::confirm_revoke(const std::string& id, const std::function<void()>& while_asked) {
  ASSERT_NO_FATAL_FAILURE(click_enabled(id));
  ASSERT_NO_FATAL_FAILURE(wait_until("document.getElementById('confirm-dialog').open"));
  if (while_asked) {
    ASSERT_NO_FATAL_FAILURE(while_asked());
  }
  click("confirm-yes");
  ASSERT_NO_FATAL_FAILURE(
      wait_until("/(was revoked|^Revoked )/.test(document.getElementById('status').textContent) || "
                 "!document.getElementById('alert').hidden"));
  ASSERT_EQ(text("alert"), "");
}

void BrowserPage::sign_in(const std::string& user) {
  type("signin-user", user);
  click("signin-button");
  ASSERT_NO_FATAL_FAILURE(wait_for("signed-in-view"));
  ASSERT_EQ(text("user-name"), user);
}

void BrowserPage::screenshot(const std::string& name) {
  const std::string failed =
      browser_->screenshot(page_, fs::path(TOUCHPASS_TEST_OUTPUT_DIR) / (name + ".png"));
  ASSERT_TRUE(failed.empty()) << failed;
  if (const char* docs = std::getenv("TOUCHPASS_SCREENSHOT_DIR"); docs && *docs) {
    const std::string copied = browser_->screenshot(page_, fs::path(docs) / (name + ".png"));
    ASSERT_TRUE(copied.empty()) << copied;
  }
}

}  // namespace touchpass::testing
