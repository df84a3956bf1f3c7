#include "cli/expiry.h"

#include <gtest/gtest.h>

namespace touchpass::cli {
namespace {

constexpr std::int64_t kNow = 1700000000;  // 2023-11-14 22:13:20 UTC
constexpr std::int64_t kDay = 86400;

TEST(ExpiryTest, NeverIsZero) {
  EXPECT_EQ(*parse_expiry("never", kNow), 0);
}

TEST(ExpiryTest, DurationsCountFromNow) {
  EXPECT_EQ(*parse_expiry("90d", kNow), kNow + 90 * kDay);
  EXPECT_EQ(*parse_expiry("12w", kNow), kNow + 84 * kDay);
  EXPECT_EQ(*parse_expiry("6m", kNow), kNow + 180 * kDay);
  EXPECT_EQ(*parse_expiry("1y", kNow), kNow + 365 * kDay);
  EXPECT_EQ(*parse_expiry("180D", kNow), kNow + 180 * kDay);
}

TEST(ExpiryTest, DateMeansTheStartOfThatDayInUtc) {
  EXPECT_EQ(*parse_expiry("2030-01-01", kNow), 1893456000);
  EXPECT_EQ(*parse_expiry("2024-02-29", kNow), 1709164800);
  EXPECT_EQ(*parse_expiry("9999-12-31", kNow), kMaxExpires - (kDay - 1));
}

TEST(ExpiryTest, BadValuesAreUsageErrorsNamingTheAcceptedForms) {
  for (const char* bad :
       {"", "d", "90", "0d", "-1d", "+5d", "1.5d", "5h", "never ", "2030-1-1", "2030-13-01",
        "2023-02-29", "2030/01/01", "99999999999999999999d", "10000y"}) {
    auto r = parse_expiry(bad, kNow);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.code(), Code::invalid_argument) << bad;
    EXPECT_NE(r.error().message.find("90d, 12w, 6m or 1y"), std::string::npos) << bad;
    EXPECT_NE(r.error().message.find("YYYY-MM-DD"), std::string::npos) << bad;
    EXPECT_NE(r.error().message.find("never"), std::string::npos) << bad;
  }
}

TEST(ExpiryTest, PastDatesAreRefused) {
  EXPECT_EQ(parse_expiry("2023-11-14", kNow).code(), Code::invalid_argument);
  EXPECT_EQ(parse_expiry("2023-11-15", kNow).value(), 1700006400);
}

}  // namespace
}  // namespace touchpass::cli
