#include "cli/did_you_mean.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace touchpass::cli {
namespace {

const std::vector<std::string> kCommands = {"enroll", "tokens", "devices", "issue",
                                            "show",   "list",   "revoke",  "rename",
                                            "log",    "unlock", "invite",  "verify"};

TEST(EditDistanceTest, CountsInsertionsDeletionsSubstitutionsAndSwaps) {
  EXPECT_EQ(edit_distance("list", "list"), 0u);
  EXPECT_EQ(edit_distance("lst", "list"), 1u);      // insertion
  EXPECT_EQ(edit_distance("issuee", "issue"), 1u);  // deletion
  EXPECT_EQ(edit_distance("lisk", "list"), 1u);     // substitution
  EXPECT_EQ(edit_distance("shwo", "show"), 1u);     // swap of neighbours
  EXPECT_EQ(edit_distance("", "log"), 3u);
  EXPECT_EQ(edit_distance("remove", "revoke"), 2u);
}

TEST(NearestWordTest, SuggestsTheCommandATypoMeant) {
  EXPECT_EQ(nearest_word("lst", kCommands), "list");
  EXPECT_EQ(nearest_word("shwo", kCommands), "show");
  EXPECT_EQ(nearest_word("isue", kCommands), "issue");
  EXPECT_EQ(nearest_word("remove", kCommands), "revoke");
  EXPECT_EQ(nearest_word("tok", kCommands), "tokens");  // the only command it begins
}

TEST(NearestWordTest, SuggestsNothingFarOrAmbiguous) {
  EXPECT_EQ(nearest_word("frobnicate", kCommands), std::nullopt);
  EXPECT_EQ(nearest_word("x", kCommands), std::nullopt);
  EXPECT_EQ(nearest_word("re", kCommands), std::nullopt);  // revoke or rename
  EXPECT_EQ(nearest_word("lg", std::vector<std::string>{"log", "lag"}), std::nullopt);
}

}  // namespace
}  // namespace touchpass::cli
