// The fixture of the tests of touchpass-web as a separate process (web_gateway_test.cpp,
// web_slow_daemon_test.cpp): a test certificate for the suite, a copy of the static files
// (with links that point out of it), touchpass-web started with a configuration the test
// writes, and libcurl requests to it. After every test the process must still be running and
// must stop cleanly on SIGTERM.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "integration/web/web_process.h"
#include "support/test_certificate.h"
#include "support/virtual_token.h"

namespace touchpass::testing {

class WebGateway : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certificate_dir_ = new TempDir;
    auto made = TestCertificate::make(certificate_dir_->path());
    ASSERT_TRUE(made) << "openssl could not make a test certificate";
    certificate_ = new TestCertificate(*made);
  }
  static void TearDownTestSuite() {
    delete certificate_;
    delete certificate_dir_;
  }

  void SetUp() override {
    static_dir_ = dir_.path() / "static";
    std::filesystem::copy(TOUCHPASS_WEB_STATIC_DIR, static_dir_,
                          std::filesystem::copy_options::recursive);
    std::ofstream(dir_.path() / "secret.txt") << "outside the static directory";
    std::filesystem::create_symlink(dir_.path() / "secret.txt", static_dir_ / "escape.txt");
    std::filesystem::create_directory_symlink(dir_.path(), static_dir_ / "up");
  }

  void TearDown() override {
    if (!web_) return;
    EXPECT_TRUE(web_->running()) << "touchpass-web stopped:\n" << web_->output();
    const int status = web_->terminate();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "touchpass-web did not stop cleanly on SIGTERM:\n"
        << web_->output();
  }

  // The configuration for TLS on 127.0.0.1 with a port of the system's choice, plus `extra`.
  std::string tls_config(const std::string& extra = "") const {
    return "listen = 127.0.0.1:0\n"
           "tls_certificate = " +
           certificate_->certificate.string() + "\ntls_key = " + certificate_->key.string() +
           "\nstatic_dir = " + static_dir_.string() +
           "\ndaemon_socket = " + (dir_.path() / "touchpassd.sock").string() + "\n" + extra;
  }

  std::filesystem::path write_config(const std::string& text) {
    const std::filesystem::path path = dir_.path() / "web.conf";
    std::ofstream(path) << text;
    return path;
  }

  // Starts touchpass-web with `config_text`.
  void start(const std::string& config_text) {
    std::string error;
    web_ = WebProcess::start(TOUCHPASS_WEB_PROGRAM, write_config(config_text), &error);
    ASSERT_TRUE(web_) << error;
  }

  std::uint16_t port() const {
    return static_cast<std::uint16_t>(
        std::stoi(web_->base_url().substr(web_->base_url().rfind(':') + 1)));
  }

  HttpRequest request(const std::string& path, const std::string& method = "GET") const {
    HttpRequest r;
    r.method = method;
    r.url = web_->base_url() + path;
    r.ca_certificate = certificate_->certificate;
    return r;
  }

  HttpAnswer get(const std::string& path) const { return http(request(path)); }

  static void expect_error(const HttpAnswer& a, long status, const std::string& code) {
    EXPECT_EQ(a.status, status) << a.error << a.body;
    EXPECT_EQ(a.header("content-type"), "application/json");
    const nlohmann::json body = nlohmann::json::parse(a.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << a.body;
    EXPECT_EQ(body.value("v", 0), 1);
    EXPECT_EQ(body.value("ok", true), false);
    ASSERT_TRUE(body.contains("error")) << a.body;
    EXPECT_EQ(body["error"].value("code", ""), code) << a.body;
    EXPECT_FALSE(body["error"].value("message", "").empty()) << a.body;
  }

  static inline TempDir* certificate_dir_ = nullptr;
  static inline TestCertificate* certificate_ = nullptr;
  TempDir dir_;
  std::filesystem::path static_dir_;
  std::unique_ptr<WebProcess> web_;
};

}  // namespace touchpass::testing
