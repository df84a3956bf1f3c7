// CborAnswerCheck: which CTAPHID answers the transport withholds from libfido2.
#include "devices/fido2/cbor_answer_check.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "core/bytes.h"

namespace touchpass::devices::fido2 {
namespace {

using Report = std::array<std::uint8_t, CborAnswerCheck::kReportSize>;
constexpr std::uint32_t kChannel = 0x01020304;
constexpr std::uint8_t kCbor = 0x90;
constexpr std::uint8_t kKeepalive = 0xbb;
constexpr std::uint8_t kMsg = 0x83;

void put_channel(Report& report, std::uint32_t channel) {
  for (std::size_t i = 0; i < 4; ++i)
    report[i] = static_cast<std::uint8_t>(channel >> (24 - 8 * i));
}

// The reports of one CTAPHID message `command` carrying `payload` on `channel`.
std::vector<Report> message(std::uint8_t command, const Bytes& payload,
                            std::uint32_t channel = kChannel) {
  std::vector<Report> reports;
  Report first{};
  put_channel(first, channel);
  first[4] = command;
  first[5] = static_cast<std::uint8_t>(payload.size() >> 8);
  first[6] = static_cast<std::uint8_t>(payload.size());
  std::size_t at = 0;
  for (; at < payload.size() && at < 57; ++at) first[7 + at] = payload[at];
  reports.push_back(first);
  for (std::uint8_t sequence = 0; at < payload.size(); ++sequence) {
    Report next{};
    put_channel(next, channel);
    next[4] = sequence;
    for (std::size_t i = 0; i < 59 && at < payload.size(); ++i, ++at) next[5 + i] = payload[at];
    reports.push_back(next);
  }
  return reports;
}

constexpr std::uint8_t kMakeCredential = 0x01;
constexpr std::uint8_t kGetAssertion = 0x02;
constexpr std::uint8_t kGetNextAssertion = 0x08;
constexpr std::uint8_t kClientPin = 0x06;

// Feeds `reports`, answers to the CTAP command `request`; the verdict of each.
std::vector<bool> feed(CborAnswerCheck& check, const std::vector<Report>& reports,
                       std::uint8_t request = 0) {
  std::vector<bool> verdicts;
  for (const Report& r : reports) verdicts.push_back(check.accept(r, request));
  return verdicts;
}

// A status byte and a map {1: <n-byte string>}: a well-formed answer of 5 + n bytes.
Bytes well_formed_answer(std::size_t n) {
  Bytes out{
      0x00, 0xa1, 0x01, 0x59, static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)};
  out.resize(out.size() + n, 0x41);
  return out;
}

TEST(CborAnswerCheckTest, WellFormedAnswersPassInOneOrManyReports) {
  CborAnswerCheck check;
  for (std::size_t n : {0u, 50u, 51u, 500u, 7000u}) {
    const auto reports = message(kCbor, well_formed_answer(n));
    for (bool verdict : feed(check, reports)) EXPECT_TRUE(verdict) << n;
  }
}

TEST(CborAnswerCheckTest, HugeArrayIsWithheld) {
  CborAnswerCheck check;
  EXPECT_EQ(feed(check, message(kCbor, Bytes{0x00, 0x9a, 0x10, 0x00, 0x00, 0x00})),
            std::vector<bool>{false});
}

TEST(CborAnswerCheckTest, OnlyTheLastReportOfABadAnswerIsWithheld) {
  Bytes answer = well_formed_answer(200);
  answer[3] = 0x5a;  // the string now announces 2^32 + ... bytes: more than follow
  const auto reports = message(kCbor, answer);
  ASSERT_EQ(reports.size(), 4u);
  CborAnswerCheck check;
  EXPECT_EQ(feed(check, reports), (std::vector<bool>{true, true, true, false}));
}

TEST(CborAnswerCheckTest, CutShortAndNotCborAreWithheld) {
  CborAnswerCheck check;
  Bytes cut = well_formed_answer(100);
  cut.resize(60);
  EXPECT_FALSE(feed(check, message(kCbor, cut)).back());
  EXPECT_FALSE(feed(check, message(kCbor, Bytes{0x00, 0xff, 0xfe})).back());
  EXPECT_FALSE(feed(check, message(kCbor, Bytes{0x00, 0x9f, 0x01, 0xff})).back())
      << "indefinite lengths are not CTAP2 canonical CBOR";
}

TEST(CborAnswerCheckTest, ErrorStatusesAndStatusOnlyAnswersPass) {
  CborAnswerCheck check;
  EXPECT_TRUE(feed(check, message(kCbor, Bytes{0x00})).back());
  EXPECT_TRUE(feed(check, message(kCbor, Bytes{0x31})).back());
  // libfido2 does not decode the body of an error status.
  EXPECT_TRUE(feed(check, message(kCbor, Bytes{0x2e, 0x9a, 0x10, 0x00, 0x00, 0x00})).back());
}

TEST(CborAnswerCheckTest, OtherCommandsAreNotChecked) {
  CborAnswerCheck check;
  EXPECT_TRUE(feed(check, message(kMsg, Bytes{0x00, 0x9a, 0x10, 0x00, 0x00, 0x00})).back());
  EXPECT_TRUE(feed(check, message(kKeepalive, Bytes{0x01})).back());
}

TEST(CborAnswerCheckTest, KeepalivesBeforeTheAnswerDoNotHideIt) {
  CborAnswerCheck check;
  EXPECT_TRUE(feed(check, message(kKeepalive, Bytes{0x02})).back());
  EXPECT_FALSE(feed(check, message(kCbor, Bytes{0x00, 0x9a, 0x10, 0x00, 0x00, 0x00})).back());
}

TEST(CborAnswerCheckTest, ReportsLibfido2RefusesItselfPass) {
  // Continuation reports of another channel or out of sequence: libfido2 fails the exchange on
  // them, so the check stops following that answer.
  Bytes answer = well_formed_answer(100);
  answer[3] = 0x5a;
  auto reports = message(kCbor, answer);
  ASSERT_EQ(reports.size(), 2u);
  CborAnswerCheck check;
  Report stray = reports[1];
  put_channel(stray, kChannel + 1);
  EXPECT_EQ(feed(check, {reports[0], stray}), (std::vector<bool>{true, true}));
  Report skipped = reports[1];
  skipped[4] = 1;
  EXPECT_EQ(feed(check, {reports[0], skipped}), (std::vector<bool>{true, true}));
  // A continuation report with no answer begun.
  CborAnswerCheck fresh;
  EXPECT_TRUE(fresh.accept(reports[1], 0));
}

TEST(CborAnswerCheckTest, AnnouncedLengthBeyondAnyMessageIsLeftToLibfido2) {
  Report first{};
  put_channel(first, kChannel);
  first[4] = kCbor;
  first[5] = 0xff;
  first[6] = 0xff;  // 65535 bytes: more than 7609, libfido2 refuses it
  CborAnswerCheck check;
  EXPECT_TRUE(check.accept(first, 0));
}

// Authenticator data: rpIdHash, `flags`, signCount, then `tail`.
Bytes authenticator_data(std::uint8_t flags, const Bytes& tail) {
  Bytes out(32, 0xaa);
  out.push_back(flags);
  out.insert(out.end(), {0, 0, 0, 7});
  out.insert(out.end(), tail.begin(), tail.end());
  return out;
}

// Attested credential data: an aaguid, a 3-byte credential id, then `key`.
Bytes attested(const Bytes& key) {
  Bytes out(16, 0x11);
  out.insert(out.end(), {0x00, 0x03, 0xc1, 0xc2, 0xc3});
  out.insert(out.end(), key.begin(), key.end());
  return out;
}

// A status byte and the answer map {1: "none", 2: auth, 3: {}} (makeCredential's layout;
// getAssertion's has the same key for authData).
Bytes answer_with(const Bytes& auth) {
  Bytes out{0x00,
            0xa3,
            0x01,
            0x64,
            'n',
            'o',
            'n',
            'e',
            0x02,
            0x59,
            static_cast<std::uint8_t>(auth.size() >> 8),
            static_cast<std::uint8_t>(auth.size())};
  out.insert(out.end(), auth.begin(), auth.end());
  out.insert(out.end(), {0x03, 0xa0});
  return out;
}

const Bytes kCoseKey{0xa1, 0x01, 0x02};                // {1: 2}
const Bytes kExtensions{0xa1, 0x61, 'x', 0xf5};        // {"x": true}
const Bytes kHugeArray{0x9a, 0x53, 0x00, 0x00, 0x00};  // "an array of 1.4 billion items"

TEST(CborAnswerCheckTest, WellFormedAuthenticatorDataPasses) {
  CborAnswerCheck check;
  Bytes both = attested(kCoseKey);
  both.insert(both.end(), kExtensions.begin(), kExtensions.end());
  EXPECT_TRUE(
      feed(check, message(kCbor, answer_with(authenticator_data(0xc1, both))), kMakeCredential)
          .back());
  EXPECT_TRUE(
      feed(check, message(kCbor, answer_with(authenticator_data(0x81, kExtensions))), kGetAssertion)
          .back());
  EXPECT_TRUE(
      feed(check, message(kCbor, answer_with(authenticator_data(0x01, {}))), kGetAssertion).back());
}

TEST(CborAnswerCheckTest, HugeCoseKeyInAMakeCredentialAnswerIsWithheld) {
  CborAnswerCheck check;
  const Bytes answer = answer_with(authenticator_data(0x41, attested(kHugeArray)));
  EXPECT_FALSE(feed(check, message(kCbor, answer), kMakeCredential).back());
  // The same bytes answering another command: libfido2 does not read authData there.
  EXPECT_TRUE(feed(check, message(kCbor, answer), kClientPin).back());
  EXPECT_TRUE(feed(check, message(kCbor, answer), 0).back());
}

TEST(CborAnswerCheckTest, HugeExtensionOutputsAreWithheldWhereLibfido2ReadsThem) {
  CborAnswerCheck check;
  Bytes key_then_huge = attested(kCoseKey);
  key_then_huge.insert(key_then_huge.end(), kHugeArray.begin(), kHugeArray.end());
  EXPECT_FALSE(feed(check, message(kCbor, answer_with(authenticator_data(0xc1, key_then_huge))),
                    kMakeCredential)
                   .back());
  // After getAssertion libfido2 reads the extensions right after signCount, whatever AT says.
  for (std::uint8_t request : {kGetAssertion, kGetNextAssertion}) {
    EXPECT_FALSE(
        feed(check, message(kCbor, answer_with(authenticator_data(0xc1, kHugeArray))), request)
            .back());
  }
  // Without ED the bytes are not decoded.
  EXPECT_TRUE(
      feed(check, message(kCbor, answer_with(authenticator_data(0x01, kHugeArray))), kGetAssertion)
          .back());
}

TEST(CborAnswerCheckTest, AuthenticatorDataLibfido2RefusesItselfPasses) {
  CborAnswerCheck check;
  // Cut short before the flags, AT missing after makeCredential, a credential id longer than
  // what follows: libfido2 fails these before decoding any embedded CBOR.
  EXPECT_TRUE(feed(check, message(kCbor, answer_with(Bytes(20, 0xff))), kMakeCredential).back());
  EXPECT_TRUE(feed(check, message(kCbor, answer_with(authenticator_data(0x81, kHugeArray))),
                   kMakeCredential)
                  .back());
  Bytes long_id(16, 0x11);
  long_id.insert(long_id.end(), {0x7f, 0xff});
  EXPECT_TRUE(
      feed(check, message(kCbor, answer_with(authenticator_data(0x41, long_id))), kMakeCredential)
          .back());
}

TEST(CborAnswerCheckTest, EveryAuthenticatorDataKeyIsChecked) {
  // Key 2 written as 0x18 0x02 and repeated: each byte string under it is checked.
  const Bytes good = authenticator_data(0x01, {});
  const Bytes bad = authenticator_data(0x81, kHugeArray);
  Bytes answer{0x00, 0xa2, 0x02, 0x58, static_cast<std::uint8_t>(good.size())};
  answer.insert(answer.end(), good.begin(), good.end());
  answer.insert(answer.end(), {0x18, 0x02, 0x58, static_cast<std::uint8_t>(bad.size())});
  answer.insert(answer.end(), bad.begin(), bad.end());
  CborAnswerCheck check;
  EXPECT_FALSE(feed(check, message(kCbor, answer), kGetAssertion).back());
}

}  // namespace
}  // namespace touchpass::devices::fido2
