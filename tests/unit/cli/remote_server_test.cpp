// --server and --server-pin as the CLI reads them.
#include "cli/remote_server.h"

#include <gtest/gtest.h>

namespace touchpass::cli {
namespace {

constexpr std::string_view kPin = "sha256//Al/c/liR1+NxUEf/wwpwQDRuvdqojqY17qXWEayzdmc=";

TEST(RemoteServer, AnHttpsOriginWithOrWithoutATrailingSlash) {
  auto a = parse_remote_server("https://Mail.Example.org/", "");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->origin.origin, "https://mail.example.org");
  EXPECT_EQ(a->origin.host, "mail.example.org");
  EXPECT_TRUE(a->pin.empty());
  auto b = parse_remote_server("https://localhost:8443", kPin);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->origin.origin, "https://localhost:8443");
  EXPECT_EQ(b->pin, kPin);
}

TEST(RemoteServer, RefusesWhatIsNotAnHttpsOrigin) {
  for (const char* url :
       {"http://mail.example.org", "mail.example.org", "https://mail.example.org/api",
        "https://mail.example.org//", "https://user@mail.example.org", "https://"}) {
    auto parsed = parse_remote_server(url, "");
    ASSERT_FALSE(parsed.ok()) << url;
    EXPECT_EQ(parsed.code(), Code::invalid_argument);
    EXPECT_EQ(parsed.error().message.rfind("--server: ", 0), 0u) << parsed.error().message;
  }
}

TEST(RemoteServer, PinsAreSha256HashesInBase64) {
  const std::string two = std::string(kPin) + ";" + std::string(kPin);
  EXPECT_TRUE(parse_remote_server("https://a.example", two).ok());
  for (const std::string& pin :
       {std::string("Al/c/liR1+NxUEf/wwpwQDRuvdqojqY17qXWEayzdmc="), std::string("sha256//abc="),
        std::string(kPin) + ";", std::string("/etc/ssl/server.pem"),
        std::string("sha256//Al/c/liR1+NxUEf/wwpwQDRuvdqojqY17qXWEayzdm!=")}) {
    auto parsed = parse_remote_server("https://a.example", pin);
    ASSERT_FALSE(parsed.ok()) << pin;
    EXPECT_NE(parsed.error().message.find("--server-pin"), std::string::npos);
  }
}

}  // namespace
}  // namespace touchpass::cli
