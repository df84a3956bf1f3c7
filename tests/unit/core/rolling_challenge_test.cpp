#include "core/rolling_challenge.h"

#include <gtest/gtest.h>

#include <openssl/evp.h>

#include <set>
#include <string>

#include "core/random.h"

namespace touchpass {
namespace {

TEST(RollingChallenge, TheStoredHashIsHmacOfTheLabelAndTheResponse) {
  const Bytes pepper(32, 0x5e);
  const Bytes response(20, 0x33);
  const auto hash = rolling_response_hash(pepper, response);
  ASSERT_TRUE(hash.ok());
  const Bytes message =
      bytes_of("touchpass/v1/rolling" + std::string(response.begin(), response.end()));
  Bytes expected(32);
  std::size_t written = 0;
  ASSERT_NE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, pepper.data(), pepper.size(),
                      message.data(), message.size(), expected.data(), expected.size(), &written),
            nullptr);
  EXPECT_EQ(*hash, expected);
}

TEST(RollingChallenge, MatchesOnlyTheSameResponseUnderTheSamePepper) {
  const Bytes pepper(32, 0x5e);
  const Bytes response(20, 0x33);
  const Bytes stored = *rolling_response_hash(pepper, response);
  EXPECT_TRUE(rolling_response_matches(pepper, response, stored));
  Bytes other = response;
  other[19] ^= 1;
  EXPECT_FALSE(rolling_response_matches(pepper, other, stored));
  EXPECT_FALSE(rolling_response_matches(Bytes(32, 0x5f), response, stored));
  EXPECT_FALSE(rolling_response_matches(pepper, response, Bytes(stored.begin(), stored.end() - 1)));
  EXPECT_FALSE(rolling_response_matches(pepper, response, Bytes{}));
}

TEST(Random, GivesDistinctBytesOfTheAskedSize) {
  std::set<Bytes> seen;
  for (int i = 0; i < 16; ++i) {
    const auto b = random_bytes(kRollingChallengeBytes);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->size(), kRollingChallengeBytes);
    EXPECT_TRUE(seen.insert(*b).second);
  }
  EXPECT_TRUE(random_bytes(0).ok());
}

}  // namespace
}  // namespace touchpass
