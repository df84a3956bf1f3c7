// The arguments of pam_touchpass.so (pam/module_options.h): every argument is checked strictly,
// and a misspelt, malformed or repeated one is an error that names it.
#include "pam/module_options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace touchpass::pam {
namespace {

// Parses `arguments` for the PAM service "imap".
Result<ModuleOptions> parse(const std::vector<std::string>& arguments,
                            std::string_view pam_service = "imap") {
  std::vector<const char*> raw;
  for (const auto& argument : arguments) raw.push_back(argument.c_str());
  return parse_module_options(raw, pam_service);
}

TEST(ModuleOptions, DefaultsWithoutArguments) {
  const auto options = parse({});
  ASSERT_TRUE(options.ok()) << options.error().message;
  EXPECT_EQ(options->service, "imap");
  EXPECT_EQ(options->socket, kDefaultSocket);
  EXPECT_EQ(options->daemon_user, "touchpass");
  EXPECT_EQ(options->timeout, kDefaultTimeout);
  EXPECT_FALSE(options->debug);
}

TEST(ModuleOptions, EveryArgumentIsTaken) {
  const auto options = parse(
      {"service=smtp", "socket=/run/tp.sock", "daemon_user=_touchpass-2", "timeout=3", "debug"});
  ASSERT_TRUE(options.ok()) << options.error().message;
  EXPECT_EQ(options->service, "smtp");
  EXPECT_EQ(options->socket, "/run/tp.sock");
  EXPECT_EQ(options->daemon_user, "_touchpass-2");
  EXPECT_EQ(options->timeout, std::chrono::seconds(3));
  EXPECT_TRUE(options->debug);
}

TEST(ModuleOptions, DaemonUserIsAUserName) {
  for (const std::string& name :
       std::vector<std::string>{"nobody", "Touchpass", "_tp", "a", std::string(31, 'u')}) {
    SCOPED_TRACE(name);
    const auto options = parse({"daemon_user=" + name});
    ASSERT_TRUE(options.ok()) << options.error().message;
    EXPECT_EQ(options->daemon_user, name);
  }
  for (const std::string& name :
       std::vector<std::string>{"", "0", "65534", "-touchpass", "touch.pass", "touch pass",
                                "no/body", "tóuchpass", "touchpass$", std::string(32, 'u')}) {
    SCOPED_TRACE(name);
    const auto options = parse({"daemon_user=" + name});
    ASSERT_FALSE(options.ok());
    EXPECT_EQ(options.error().code, Code::invalid_argument);
    EXPECT_NE(options.error().message.find("daemon_user="), std::string::npos);
  }
}

TEST(ModuleOptions, AnArgumentGivenTwiceIsAnError) {
  for (const std::string key :
       {"service=imap", "socket=/run/a.sock", "daemon_user=nobody", "timeout=5"}) {
    SCOPED_TRACE(key);
    const auto options = parse({key, key});
    ASSERT_FALSE(options.ok());
    EXPECT_NE(options.error().message.find("twice"), std::string::npos);
  }
}

TEST(ModuleOptions, MalformedOrUnknownArgumentsAreErrors) {
  for (const std::vector<std::string>& arguments :
       std::vector<std::vector<std::string>>{{"bogus"},
                                             {"daemon_user"},
                                             {"daemonuser=nobody"},
                                             {"DAEMON_USER=nobody"},
                                             {"service=IMAP"},
                                             {"socket=relative/path"},
                                             {"timeout=0"},
                                             {"timeout=121"},
                                             {"timeout=1s"}}) {
    SCOPED_TRACE(arguments.front());
    EXPECT_FALSE(parse(arguments).ok());
  }
  EXPECT_FALSE(parse({}, "touchpass.test").ok());  // no service= and an unusable PAM service
}

}  // namespace
}  // namespace touchpass::pam
