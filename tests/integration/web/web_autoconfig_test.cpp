// Thunderbird's autoconfiguration served by the real touchpass-web process (plain HTTP on
// loopback, as behind a reverse proxy): both paths answer the document for the mail domain,
// with the security headers; another domain's address is not found; other methods are refused.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "integration/web/web_process.h"
#include "support/virtual_token.h"
#include "web/config.h"
#include "web/mail_autoconfig.h"

namespace touchpass::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPaths[] = {"/.well-known/autoconfig/mail/config-v1.1.xml",
                                  "/mail/config-v1.1.xml"};

class WebAutoconfig : public ::testing::Test {
 protected:
  void TearDown() override {
    if (!web_) return;
    EXPECT_TRUE(web_->running()) << "touchpass-web stopped:\n" << web_->output();
    const int status = web_->terminate();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << web_->output();
  }

  // Starts touchpass-web on 127.0.0.1 with `mail_keys` added to its configuration; returns the
  // document it should serve (empty when the configuration has no mail settings).
  std::string start(const std::string& mail_keys) {
    const std::string text =
        "listen = 127.0.0.1:0\nstatic_dir = " + std::string(TOUCHPASS_WEB_STATIC_DIR) +
        "\ndaemon_socket = " + (dir_.path() / "touchpassd.sock").string() + "\n" + mail_keys;
    const fs::path path = dir_.path() / "web.conf";
    std::ofstream(path) << text;
    std::string error;
    web_ = WebProcess::start(TOUCHPASS_WEB_PROGRAM, path, &error);
    EXPECT_TRUE(web_) << error;
    auto config = web::parse_config(text, "web.conf");
    EXPECT_TRUE(config.ok());
    if (!config.ok() || !config->mail) return "";
    auto document = web::mail_autoconfig(*config->mail);
    EXPECT_TRUE(document.ok());
    return document.ok() ? *document : "";
  }

  HttpAnswer call(const std::string& path_and_query, const std::string& method = "GET") const {
    HttpRequest r;
    r.method = method;
    r.url = web_->base_url() + path_and_query;
    return http(r);
  }

  static void expect_not_found(const HttpAnswer& a) {
    EXPECT_EQ(a.status, 404) << a.error << a.body;
    EXPECT_EQ(a.header("content-type"), "application/json");
    const auto body = nlohmann::json::parse(a.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << a.body;
    EXPECT_EQ(body["error"].value("code", ""), "not_found") << a.body;
  }

  TempDir dir_;
  std::unique_ptr<WebProcess> web_;
};

TEST_F(WebAutoconfig, BothPathsAnswerTheDocumentForTheMailDomain) {
  const std::string expected =
      start("origin = https://mail.example.org\nsmtp_security = starttls\nmail_login = address\n");
  ASSERT_TRUE(web_);
  ASSERT_FALSE(expected.empty());
  ASSERT_NE(expected.find("<hostname>mail.example.org</hostname>"), std::string::npos);
  ASSERT_NE(expected.find("<port>587</port>"), std::string::npos);
  for (const char* path : kPaths) {
    for (const std::string query :
         {"", "?emailaddress=alice@example.org", "?emailaddress=alice%40EXAMPLE.ORG"}) {
      const HttpAnswer a = call(path + query);
      ASSERT_EQ(a.status, 200) << path << query << ": " << a.error << a.body;
      EXPECT_EQ(a.header("content-type"), "application/xml");
      EXPECT_EQ(a.body, expected) << path << query;
      EXPECT_EQ(a.header("x-content-type-options"), "nosniff");
      EXPECT_EQ(a.header("referrer-policy"), "no-referrer");
      EXPECT_NE(a.header("content-security-policy").find("default-src 'none'"), std::string::npos);
    }
    const HttpAnswer head = call(path, "HEAD");
    EXPECT_EQ(head.status, 200);
    EXPECT_TRUE(head.body.empty());
    EXPECT_EQ(head.header("content-type"), "application/xml");
    EXPECT_EQ(head.header("content-length"), std::to_string(expected.size()));
  }
}

TEST_F(WebAutoconfig, AnotherDomainsAddressIsNotFound) {
  ASSERT_FALSE(start("origin = https://mail.example.org\n").empty());
  for (const char* path : kPaths) {
    for (const std::string query :
         {"?emailaddress=alice@example.com", "?emailaddress=alice@mail.example.org",
          "?emailaddress=alice", "?emailaddress="}) {
      SCOPED_TRACE(path + query);
      expect_not_found(call(path + query));
    }
  }
}

TEST_F(WebAutoconfig, OtherMethodsAreRefused) {
  ASSERT_FALSE(start("origin = https://mail.example.org\n").empty());
  for (const char* path : kPaths) {
    for (const char* method : {"POST", "PUT", "DELETE"}) {
      const HttpAnswer a = call(path, method);
      EXPECT_EQ(a.status, 405) << path << " " << method;
      EXPECT_EQ(a.header("allow"), "GET, HEAD");
    }
  }
}

TEST_F(WebAutoconfig, WithoutMailSettingsThePathsAreNotFound) {
  EXPECT_TRUE(start("").empty());
  ASSERT_TRUE(web_);
  for (const char* path : kPaths) expect_not_found(call(std::string(path)));
}

}  // namespace
}  // namespace touchpass::testing
