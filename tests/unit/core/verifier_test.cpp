#include "core/verifier.h"

#include <gtest/gtest.h>

#include <openssl/evp.h>

#include "core/bytes.h"
#include "core/password.h"

namespace touchpass {
namespace {

const Bytes kPepper(kPepperBytes, 0x5e);
constexpr std::string_view kNormalized = "d9tn8rp3n70qkcw9nvpp";

Verifier verifier_of(const Bytes& pepper, std::string_view normalized) {
  Result<Verifier> v = compute_verifier(pepper, normalized);
  EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().message);
  return *v;
}

TEST(ComputeVerifier, IsHmacSha256OfTheNormalizedPasswordUnderThePepper) {
  // Independent check with OpenSSL's one-shot EVP_Q_mac.
  std::uint8_t expected[32];
  std::size_t written = 0;
  ASSERT_NE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, kPepper.data(), kPepper.size(),
                      reinterpret_cast<const unsigned char*>(kNormalized.data()),
                      kNormalized.size(), expected, sizeof expected, &written),
            nullptr);
  ASSERT_EQ(written, 32u);
  const Verifier v = verifier_of(kPepper, kNormalized);
  EXPECT_EQ(to_hex(v.bytes()), to_hex(expected));
}

TEST(ComputeVerifier, DependsOnPepperAndPassword) {
  const Verifier v = verifier_of(kPepper, kNormalized);
  EXPECT_EQ(v, verifier_of(kPepper, kNormalized));
  Bytes other_pepper = kPepper;
  other_pepper[31] ^= 1;
  EXPECT_FALSE(v == verifier_of(other_pepper, kNormalized));
  EXPECT_FALSE(v == verifier_of(kPepper, "d9tn8rp3n70qkcw9nvpq"));
}

TEST(ComputeVerifier, RejectsAPepperOfAnotherSize) {
  for (std::size_t n : {0u, 16u, 31u, 33u, 64u}) {
    const Result<Verifier> v = compute_verifier(Bytes(n, 0x5e), kNormalized);
    ASSERT_FALSE(v.ok()) << n;
    EXPECT_EQ(v.code(), Code::invalid_argument);
  }
}

TEST(ComputeVerifier, RejectsWhatCannotBeAnAppPassword) {
  for (std::string_view bad : {"", "d9tn-8rp3-n70q-kcw9-nvpp", "D9TN8RP3N70QKCW9NVPP",
                               "d9tn8rp3n70qkcw9nvp", "d9tn8rp3n70qkcw9nvpu"}) {
    const Result<Verifier> v = compute_verifier(kPepper, bad);
    ASSERT_FALSE(v.ok()) << bad;
    EXPECT_EQ(v.code(), Code::invalid_argument);
    EXPECT_EQ(v.error().message, "This is not a touchpass app password.");
  }
}

TEST(VerifierForTypedPassword, NormalizesFirst) {
  const Verifier expected = verifier_of(kPepper, kNormalized);
  for (std::string_view typed :
       {"d9tn-8rp3-n70q-kcw9-nvpp", "D9TN 8RP3 N7OQ KCW9 NVPP", " d9tn8rp3n70qkcw9nvpp "}) {
    const Result<Verifier> v = verifier_for_typed_password(kPepper, typed);
    ASSERT_TRUE(v.ok()) << typed;
    EXPECT_EQ(*v, expected) << typed;
  }
  EXPECT_EQ(verifier_for_typed_password(kPepper, "hunter2").code(), Code::invalid_argument);
}

TEST(Verifier, RoundTripsThroughBytesAndComparesByContent) {
  const Verifier v = verifier_of(kPepper, kNormalized);
  const Result<Verifier> back = Verifier::from_bytes(Bytes(v.bytes().begin(), v.bytes().end()));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(constant_time_equal(*back, v));
  EXPECT_EQ(*back, v);
  Bytes flipped(v.bytes().begin(), v.bytes().end());
  flipped[0] ^= 0x80;
  EXPECT_FALSE(constant_time_equal(*Verifier::from_bytes(flipped), v));
  flipped[0] ^= 0x80;
  flipped[31] ^= 0x01;
  EXPECT_FALSE(*Verifier::from_bytes(flipped) == v);
}

TEST(Verifier, FromBytesRejectsOtherSizes) {
  for (std::size_t n : {0u, 20u, 31u, 33u}) {
    const Result<Verifier> v = Verifier::from_bytes(Bytes(n, 1));
    ASSERT_FALSE(v.ok()) << n;
    EXPECT_EQ(v.code(), Code::invalid_argument);
  }
}

}  // namespace
}  // namespace touchpass

namespace touchpass {
namespace {

TEST(VerifierKeyTest, GivesTheSameVerifiersAsThePepperItself) {
  const std::string pepper(32, '\x42');
  const auto bytes = std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t*>(pepper.data()), pepper.size());
  auto key = VerifierKey::create(bytes);
  ASSERT_TRUE(key.ok());
  for (const char* typed : {"k7qm-x9fj-4tca-2hwe-p3vn", "K7QM X9FJ 4TCA 2HWE P3VN"}) {
    auto prepared = key->for_typed_password(typed);
    auto direct = verifier_for_typed_password(bytes, typed);
    ASSERT_TRUE(prepared.ok() && direct.ok());
    EXPECT_TRUE(*prepared == *direct);
  }
  EXPECT_EQ(key->for_typed_password("not a password").code(), Code::invalid_argument);
  EXPECT_EQ(VerifierKey::create(bytes.first(31)).code(), Code::invalid_argument);
}

}  // namespace
}  // namespace touchpass
