#include "core/secret.h"

#include <gtest/gtest.h>

#include <utility>

namespace touchpass {
namespace {

TEST(SecretBytes, CopiesAndComparesContents) {
  SecretBytes s = SecretBytes::copy_of(std::string_view("123456"));
  EXPECT_EQ(s.size(), 6u);
  EXPECT_EQ(s.view(), "123456");
  const std::uint8_t same[] = {'1', '2', '3', '4', '5', '6'};
  const std::uint8_t other[] = {'1', '2', '3', '4', '5', '7'};
  EXPECT_TRUE(s.equals(same));
  EXPECT_FALSE(s.equals(other));
  EXPECT_FALSE(s.equals(std::span<const std::uint8_t>(same, 5)));
}

TEST(SecretBytes, StartsZeroedAndMovesOwnership) {
  SecretBytes a(32);
  for (auto b : a.bytes()) EXPECT_EQ(b, 0);
  a.data()[0] = 7;
  SecretBytes b = std::move(a);
  EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from state is specified
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(b.size(), 32u);
  EXPECT_EQ(b.data()[0], 7);
  SecretBytes c = b.clone();
  EXPECT_TRUE(c.equals(b.bytes()));
  EXPECT_NE(c.data(), b.data());
}

TEST(SecretBytes, TruncateWipesTheTail) {
  SecretBytes s = SecretBytes::copy_of(std::string_view("abcdef"));
  std::uint8_t* p = s.data();
  s.truncate(2);
  EXPECT_EQ(s.view(), "ab");
  EXPECT_EQ(p[2], 0);
  EXPECT_EQ(p[5], 0);
}

TEST(SecretBytes, EmptyIsValid) {
  SecretBytes s;
  EXPECT_TRUE(s.empty());
  EXPECT_TRUE(s.equals({}));
  SecretBytes t = SecretBytes::copy_of(std::string_view(""));
  EXPECT_TRUE(t.empty());
}

}  // namespace
}  // namespace touchpass
