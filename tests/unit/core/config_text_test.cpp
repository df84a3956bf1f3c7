#include "core/config_text.h"

#include <gtest/gtest.h>

namespace touchpass {
namespace {

TEST(ConfigText, SplitsKeyValueLinesSkippingCommentsAndBlankLines) {
  auto lines = split_config_lines("# c\n\n a = 1 # x\nb=\n\tc = two words \r\nd = x=y", "f");
  ASSERT_TRUE(lines.ok()) << lines.error().message;
  ASSERT_EQ(lines->size(), 4u);
  EXPECT_EQ((*lines)[0].number, 3u);
  EXPECT_EQ((*lines)[0].key, "a");
  EXPECT_EQ((*lines)[0].value, "1");
  EXPECT_EQ((*lines)[1].key, "b");
  EXPECT_EQ((*lines)[1].value, "");
  EXPECT_EQ((*lines)[2].value, "two words");
  EXPECT_EQ((*lines)[3].number, 6u);
  EXPECT_EQ((*lines)[3].value, "x=y");
}

TEST(ConfigText, NamesTheFileAndTheLineOfAnError) {
  auto no_equals = split_config_lines("a = 1\njust words\n", "/etc/x.conf");
  ASSERT_FALSE(no_equals.ok());
  EXPECT_EQ(no_equals.code(), Code::invalid_argument);
  EXPECT_EQ(no_equals.error().message, "/etc/x.conf:2: expected `key = value`");
  auto empty_key = split_config_lines(" = 1\n", "f");
  ASSERT_FALSE(empty_key.ok());
  EXPECT_EQ(empty_key.error().message, "f:1: expected `key = value`");
  auto twice = split_config_lines("a = 1\n# a = 2\na=3\n", "f");
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().message, "f:3: \"a\" is set twice");
}

TEST(ConfigText, EmptyTextHasNoLines) {
  auto lines = split_config_lines("", "f");
  ASSERT_TRUE(lines.ok());
  EXPECT_TRUE(lines->empty());
}

struct Sample {
  int number = 1;
  std::string name = "default";
};

const ConfigSetters<Sample>& sample_setters() {
  static const ConfigSetters<Sample> setters = {
      {"number",
       [](Sample& s, std::string_view v) -> std::optional<std::string> {
         if (v != "2" && v != "3") return "expected 2 or 3";
         s.number = v[0] - '0';
         return std::nullopt;
       }},
      {"name",
       [](Sample& s, std::string_view v) -> std::optional<std::string> {
         s.name = std::string(v);
         return std::nullopt;
       }},
  };
  return setters;
}

TEST(ConfigText, AppliesEachLineWithItsKeysSetter) {
  auto sample = apply_config_lines(sample_setters(), "number = 3\nname = x y\n", "f");
  ASSERT_TRUE(sample.ok()) << sample.error().message;
  EXPECT_EQ(sample->number, 3);
  EXPECT_EQ(sample->name, "x y");
  auto defaults = apply_config_lines(sample_setters(), "# nothing\n", "f");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->number, 1);
  EXPECT_EQ(defaults->name, "default");
  EXPECT_EQ(config_keys_of(sample_setters()), (std::vector<std::string_view>{"name", "number"}));
}

TEST(ConfigText, RefusesUnknownKeysAndBadValuesNamingTheLine) {
  auto unknown = apply_config_lines(sample_setters(), "name = a\n\ncolour = red\n", "s.conf");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message, "s.conf:3: unknown key \"colour\"");
  auto bad = apply_config_lines(sample_setters(), "number = 4\n", "s.conf");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "s.conf:1: bad value for \"number\": expected 2 or 3");
}

}  // namespace
}  // namespace touchpass
