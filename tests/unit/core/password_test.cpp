#include "core/password.h"

#include <gtest/gtest.h>

#include <array>
#include <cctype>
#include <set>
#include <string>

#include "core/bytes.h"

namespace touchpass {
namespace {

using Key = std::array<std::uint8_t, kAppPasswordKeyBytes>;

std::string format(const Key& key) {
  const Result<AppPassword> pw = format_password(key);
  EXPECT_TRUE(pw.ok());
  return pw.ok() ? std::string(pw->grouped()) : std::string();
}

std::string without_dashes(std::string_view grouped) {
  std::string out;
  for (char c : grouped) {
    if (c != '-') out += c;
  }
  return out;
}

// Writes the 5-bit `value` at bit offset 5 * index of `key`, most significant bit first.
void put_five_bits(Key& key, std::size_t index, std::uint32_t value) {
  for (std::size_t b = 0; b < 5; ++b) {
    const std::size_t bit = 5 * index + b;
    if ((value >> (4 - b)) & 1u) key[bit / 8] |= static_cast<std::uint8_t>(0x80u >> (bit % 8));
  }
}

TEST(PasswordAlphabet, IsCrockfordBase32LowerCaseWithoutILOU) {
  ASSERT_EQ(kPasswordAlphabet.size(), 32u);
  EXPECT_EQ(std::set<char>(kPasswordAlphabet.begin(), kPasswordAlphabet.end()).size(), 32u);
  for (char c : {'i', 'l', 'o', 'u', 'I', 'L', 'O', 'U', '-', ' '}) {
    EXPECT_EQ(kPasswordAlphabet.find(c), std::string_view::npos) << c;
  }
  for (std::size_t i = 1; i < kPasswordAlphabet.size(); ++i) {
    EXPECT_LT(kPasswordAlphabet[i - 1], kPasswordAlphabet[i]);  // ascending, as in the spec
  }
  for (char c : kPasswordAlphabet) {
    EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(c)) ||
                std::islower(static_cast<unsigned char>(c)))
        << c;
  }
}

TEST(FormatPassword, AllZeroAndAllOneKeys) {
  Key zero{};
  EXPECT_EQ(format(zero), "0000-0000-0000-0000-0000");
  Key ones;
  ones.fill(0xff);
  EXPECT_EQ(format(ones), "zzzz-zzzz-zzzz-zzzz-zzzz");
}

TEST(FormatPassword, WritesMostSignificantBitsFirst) {
  Key key{};
  key[0] = 0x08;  // 00001 000|00 ...
  EXPECT_EQ(format(key), "1000-0000-0000-0000-0000");
  key[0] = 0x04;  // 00000 100|00 -> second character 10000 = 16 = 'g'
  EXPECT_EQ(format(key), "0g00-0000-0000-0000-0000");
}

TEST(FormatPassword, EveryPositionCarriesFiveBits) {
  for (std::size_t index = 0; index < kPasswordChars; ++index) {
    for (std::uint32_t value = 0; value < 32; ++value) {
      Key key{};
      put_five_bits(key, index, value);
      std::string expected(kPasswordChars, '0');
      expected[index] = kPasswordAlphabet[value];
      EXPECT_EQ(without_dashes(format(key)), expected) << "index " << index << " value " << value;
    }
  }
}

TEST(FormatPassword, IgnoresTheLastFourBitsOfTheKey) {
  Key key{};
  key[12] = 0x0f;  // bits 100..103
  EXPECT_EQ(format(key), "0000-0000-0000-0000-0000");
  key[12] = 0x10;  // bit 99 is the last one used
  EXPECT_EQ(format(key), "0000-0000-0000-0000-0001");
}

TEST(FormatPassword, ShapeIsFiveGroupsOfFourAlphabetCharacters) {
  for (unsigned seed = 0; seed < 256; ++seed) {
    Key key;
    for (std::size_t i = 0; i < key.size(); ++i) {
      key[i] = static_cast<std::uint8_t>(seed * 131u + i * 197u + (seed ^ i) * 29u);
    }
    const std::string pw = format(key);
    ASSERT_EQ(pw.size(), kGroupedPasswordChars);
    for (std::size_t i = 0; i < pw.size(); ++i) {
      if (i % 5 == 4) {
        EXPECT_EQ(pw[i], '-') << pw;
      } else {
        EXPECT_NE(kPasswordAlphabet.find(pw[i]), std::string_view::npos) << pw;
      }
    }
    EXPECT_TRUE(is_well_formed(without_dashes(pw))) << pw;
  }
}

TEST(FormatPassword, RejectsKeysOfAnotherSize) {
  for (std::size_t n : {0u, 12u, 14u, 32u}) {
    const Bytes key(n, 0x42);
    const Result<AppPassword> pw = format_password(key);
    ASSERT_FALSE(pw.ok()) << n;
    EXPECT_EQ(pw.code(), Code::invalid_argument);
  }
}

TEST(NormalizePassword, RoundTripsWhatAPersonTypes) {
  const std::string shown = "d9tn-8rp3-n70q-kcw9-nvpp";
  const std::string normalized = "d9tn8rp3n70qkcw9nvpp";
  for (const char* typed :
       {"d9tn-8rp3-n70q-kcw9-nvpp", "d9tn8rp3n70qkcw9nvpp", "D9TN-8RP3-N70Q-KCW9-NVPP",
        "d9tn 8rp3 n70q kcw9 nvpp", "D9TN 8RP3 N7OQ KCW9 NVPP", "d9tn8rp3n7oqkcw9nvpp",
        "  d9tn--8rp3 -n70q kcw9-nvpp "}) {
    const SecretBytes n = normalize_password(typed);
    EXPECT_EQ(n.view(), normalized) << typed;
    EXPECT_TRUE(is_well_formed(n.view())) << typed;
  }
  EXPECT_EQ(without_dashes(shown), normalized);
}

TEST(NormalizePassword, ReadsILAndOAsDigits) {
  EXPECT_EQ(normalize_password("1111-0000").view(), "11110000");
  EXPECT_EQ(normalize_password("iIlL-oOoO").view(), "11110000");
  Key key{};
  put_five_bits(key, 0, 1);
  put_five_bits(key, 5, 1);
  const std::string pw = format(key);
  ASSERT_EQ(pw, "1000-0100-0000-0000-0000");
  EXPECT_EQ(normalize_password("LOOO-OIOO-OOOO-oooo-oooo").view(), without_dashes(pw));
}

TEST(NormalizePassword, ChangesNothingElse) {
  EXPECT_EQ(normalize_password("").view(), "");
  EXPECT_EQ(normalize_password(" - ").view(), "");
  EXPECT_EQ(normalize_password("a\tb\nu_U").view(), "a\tb\nu_u");
  EXPECT_EQ(normalize_password("\xc3\x9f").view(), "\xc3\x9f");
}

TEST(IsWellFormed, AcceptsExactlyTwentyAlphabetCharacters) {
  EXPECT_TRUE(is_well_formed("d9tn8rp3n70qkcw9nvpp"));
  EXPECT_TRUE(is_well_formed("0123456789abcdefghjk"));
  EXPECT_TRUE(is_well_formed("mnpqrstvwxyzzzzzzzzz"));
}

TEST(IsWellFormed, RejectsMalformedPasswords) {
  struct Case {
    std::string_view text;
    bool well_formed_after_normalizing;
  };
  const Case cases[] = {
      {std::string_view(""), false},
      {std::string_view("d9tn8rp3n70qkcw9nvp"), false},         // 19 characters
      {std::string_view("d9tn8rp3n70qkcw9nvppp"), false},       // 21
      {std::string_view("d9tn8rp3n70qkcw9nvpu"), false},        // u is not in the alphabet
      {std::string_view("d9tn8rp3n70qkcw9nvp\t"), false},       // a tab is not dropped
      {std::string_view("d9tn8rp3n70qkcw9nvp\0", 20), false},   // NUL
      {std::string_view("d9tn8rp3n70qkcw9nv\xc3\xa9"), false},  // non-ASCII
      {std::string_view("d9tn_8rp3_n70q_kcw9_nvpp"), false},    // '_' is not a separator
      {std::string_view("01110011"), false},                    // a normalization vector
      {std::string_view("d9tn-8rp3-n70q-kcw9-nvpp"), true},     // grouped, as shown
      {std::string_view("D9TN8RP3N70QKCW9NVPP"), true},         // upper case
      {std::string_view("d9tn8rp3n70qkcw9nvpi"), true},         // i reads as 1
  };
  for (const Case& c : cases) {
    EXPECT_FALSE(is_well_formed(c.text)) << "\"" << c.text << "\"";
    EXPECT_EQ(is_well_formed(normalize_password(c.text).view()), c.well_formed_after_normalizing)
        << "\"" << c.text << "\"";
  }
}

}  // namespace
}  // namespace touchpass
