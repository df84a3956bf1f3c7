#include "core/status.h"

#include <gtest/gtest.h>

namespace touchpass {
namespace {

TEST(Status, DefaultIsSuccess) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), Code::ok);
  EXPECT_EQ(s.message(), "");
}

TEST(Status, CarriesCodeMessageAndRetries) {
  Status s(Error{Code::pin_invalid, "Wrong PIN.", 5});
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::pin_invalid);
  EXPECT_EQ(s.message(), "Wrong PIN.");
  EXPECT_EQ(s.error().retries_left, 5);
}

TEST(Result, HoldsValueOrError) {
  Result<int> good(42);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 42);
  Result<int> bad(Code::no_token, "Insert your security key.");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.code(), Code::no_token);
  EXPECT_EQ(bad.status().message(), "Insert your security key.");
}

TEST(CodeName, IsStableAndDistinct) {
  EXPECT_EQ(code_name(Code::pin_invalid), "pin_invalid");
  EXPECT_EQ(code_name(Code::presence_timeout), "presence_timeout");
  EXPECT_NE(code_name(Code::pin_blocked), code_name(Code::pin_auth_blocked));
}

}  // namespace
}  // namespace touchpass
