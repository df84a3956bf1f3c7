#include "cli/exit_code.h"

#include <gtest/gtest.h>

namespace touchpass::cli {
namespace {

TEST(ExitCodeTest, TokenAndPinProblemsExitFive) {
  for (Code code : {Code::pin_invalid, Code::pin_blocked, Code::pin_auth_blocked,
                    Code::pin_required, Code::pin_not_set, Code::pin_policy, Code::token_removed,
                    Code::no_token, Code::no_credentials, Code::presence_denied,
                    Code::presence_timeout, Code::capability_missing, Code::malformed_reply,
                    Code::clone_suspected, Code::verification_failed, Code::token_error}) {
    EXPECT_EQ(exit_code_for(code), ExitCode::token) << code_name(code);
  }
}

TEST(ExitCodeTest, OtherCodesHaveTheirOwnExit) {
  EXPECT_EQ(to_int(exit_code_for(Code::ok)), 0);
  EXPECT_EQ(to_int(exit_code_for(Code::internal)), 1);
  EXPECT_EQ(to_int(exit_code_for(Code::io_error)), 1);
  EXPECT_EQ(to_int(exit_code_for(Code::protocol_error)), 1);
  EXPECT_EQ(to_int(exit_code_for(Code::unsupported_version)), 1);
  EXPECT_EQ(to_int(exit_code_for(Code::invalid_argument)), 2);
  EXPECT_EQ(to_int(exit_code_for(Code::permission_denied)), 4);
  EXPECT_EQ(to_int(exit_code_for(Code::cancelled)), 6);
  EXPECT_EQ(to_int(exit_code_for(Code::not_found)), 7);
}

TEST(ExitCodeTest, HelpListsEveryExitCode) {
  for (const char* line :
       {"  0  ", "  1  ", "  2  ", "  3  ", "  4  ", "  5  ", "  6  ", "  7  "}) {
    EXPECT_NE(kExitCodeHelp.find(line), std::string_view::npos) << line;
  }
}

}  // namespace
}  // namespace touchpass::cli
