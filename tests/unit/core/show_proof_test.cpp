// The show proof an audit entry keeps: one text form, read back strictly. Each malformed case is
// refused with a sentence that names what is wrong.
#include "core/show_proof.h"

#include <gtest/gtest.h>

#include <array>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace touchpass {
namespace {

ShowProof sample() {
  ShowProof p;
  std::array<std::uint8_t, GrantId::kSize> id{};
  for (std::size_t i = 0; i < id.size(); ++i) id[i] = static_cast<std::uint8_t>(0xa0 + i);
  p.grant_id = GrantId(id);
  p.nonce = Bytes(16, 0x11);
  p.authenticator_data = Bytes(37, 0x22);
  p.client_data_json = R"({"type":"webauthn.get","challenge":"AAAA","origin":"pam://x"})";
  p.signature = Bytes{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02};
  return p;
}

std::string sample_text() {
  return *encode_show_proof(sample());
}

// The sentence parse_show_proof refuses `text` with; fails the test if it accepts it.
std::string refusal(std::string_view text) {
  const auto parsed = parse_show_proof(text);
  EXPECT_FALSE(parsed.ok()) << text;
  if (parsed.ok()) return "";
  EXPECT_EQ(parsed.code(), Code::invalid_argument);
  return parsed.error().message;
}

// `text` with its first occurrence of `from` replaced by `to`.
std::string replaced(std::string text, std::string_view from, std::string_view to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

bool same(const ShowProof& a, const ShowProof& b) {
  return a.grant_id == b.grant_id && a.nonce == b.nonce &&
         a.authenticator_data == b.authenticator_data && a.client_data_json == b.client_data_json &&
         a.signature == b.signature;
}

TEST(ShowProof, WritesOneLineInTheDocumentedForm) {
  const std::string text = sample_text();
  EXPECT_EQ(text, "show-proof v1 grant=a0a1a2a3a4a5a6a7a8a9aaabacadaeaf nonce=" +
                      std::string(32, '1') + " auth=" + std::string(74, '2') + " client=" +
                      to_base64url(bytes_of(sample().client_data_json)) + " sig=3006020101020102");
  EXPECT_EQ(text.find('\n'), std::string::npos);
  EXPECT_TRUE(is_show_proof(text));
}

TEST(ShowProof, RoundTrips) {
  const auto parsed = parse_show_proof(sample_text());
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_TRUE(same(*parsed, sample()));
}

TEST(ShowProof, RoundTripsAV1GrantsProofWithoutClientData) {
  ShowProof p = sample();
  p.client_data_json.clear();
  const auto text = encode_show_proof(p);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find(" client= sig="), std::string::npos);
  const auto parsed = parse_show_proof(*text);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_TRUE(same(*parsed, p));
}

TEST(ShowProof, RoundTripsFieldsAtTheirBounds) {
  ShowProof p = sample();
  p.nonce = Bytes(kShowProofMaxNonceBytes, 0xfe);
  p.authenticator_data = Bytes(kShowProofMaxAuthDataBytes, 0xfd);
  p.client_data_json = std::string(kShowProofMaxClientDataBytes, '"');
  p.signature = Bytes(kShowProofMaxSignatureBytes, 0xfc);
  const auto text = encode_show_proof(p);
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_LE(text->size(), kMaxShowProofBytes);
  const auto parsed = parse_show_proof(*text);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_TRUE(same(*parsed, p));
}

TEST(ShowProof, TellsAShowProofFromOtherDetails) {
  EXPECT_TRUE(is_show_proof("show-proof v2 anything"));
  EXPECT_FALSE(is_show_proof("nonce 00112233 proof 3006"));  // before show proofs
  EXPECT_FALSE(is_show_proof("show-proof"));
  EXPECT_FALSE(is_show_proof("show-proofs v1"));
  EXPECT_FALSE(is_show_proof(""));
}

TEST(ShowProof, EncodingRefusesWhatParsingWouldRefuse) {
  const std::vector<std::pair<std::function<void(ShowProof&)>, std::string>> cases = {
      {[](ShowProof& p) { p.grant_id = GrantId(); }, "grant"},
      {[](ShowProof& p) { p.nonce.resize(kShowProofMinNonceBytes - 1); }, "nonce"},
      {[](ShowProof& p) { p.nonce.resize(kShowProofMaxNonceBytes + 1); }, "nonce"},
      {[](ShowProof& p) { p.authenticator_data.resize(36); }, "auth"},
      {[](ShowProof& p) { p.authenticator_data.resize(kShowProofMaxAuthDataBytes + 1); }, "auth"},
      {[](ShowProof& p) { p.client_data_json.resize(kShowProofMaxClientDataBytes + 1); }, "client"},
      {[](ShowProof& p) { p.signature.clear(); }, "sig"},
      {[](ShowProof& p) { p.signature.resize(kShowProofMaxSignatureBytes + 1); }, "sig"},
  };
  for (const auto& [change, field] : cases) {
    ShowProof p = sample();
    change(p);
    const auto text = encode_show_proof(p);
    ASSERT_FALSE(text.ok()) << field;
    EXPECT_EQ(text.code(), Code::invalid_argument);
    EXPECT_NE(text.error().message.find("show proof's " + field), std::string::npos)
        << text.error().message;
  }
}

TEST(ShowProof, RefusesAnotherVersion) {
  EXPECT_NE(refusal(replaced(sample_text(), " v1 ", " v2 ")).find("version"), std::string::npos);
  EXPECT_NE(refusal(replaced(sample_text(), " v1 ", " V1 ")).find("version"), std::string::npos);
  EXPECT_NE(refusal("show-proof v2").find("version"), std::string::npos);
}

TEST(ShowProof, RefusesWhatIsNotAShowProof) {
  EXPECT_NE(refusal("nonce 00112233445566778899aabbccddeeff proof 3006020101020102")
                .find("does not start"),
            std::string::npos);
  EXPECT_NE(refusal("").find("does not start"), std::string::npos);
}

TEST(ShowProof, RefusesAMissingField) {
  for (const char* field : {"grant", "nonce", "auth", "client", "sig"}) {
    std::string text = sample_text();
    const auto at = text.find(std::string(" ") + field + "=");
    ASSERT_NE(at, std::string::npos) << field;
    const auto end = text.find(' ', at + 1);
    text.erase(at, end == std::string::npos ? std::string::npos : end - at);
    EXPECT_NE(refusal(text).find(std::string("lacks its ") + field + " field"), std::string::npos)
        << text;
  }
  EXPECT_NE(refusal("show-proof v1").find("lacks its grant field"), std::string::npos);
}

TEST(ShowProof, RefusesARepeatedField) {
  const std::string text = sample_text();
  const std::string nonce = text.substr(text.find(" nonce="), 7 + 32);
  EXPECT_NE(refusal(replaced(text, nonce, nonce + nonce)).find("nonce field twice"),
            std::string::npos);
  // A repeat that replaces another field is still a repeat, not a missing field.
  const std::string sig = text.substr(text.find(" sig="));
  EXPECT_NE(refusal(replaced(text, sig, " grant=a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"))
                .find("grant field twice"),
            std::string::npos);
}

TEST(ShowProof, RefusesFieldsOutOfOrder) {
  const std::string text = sample_text();
  const std::string nonce = text.substr(text.find(" nonce="), 7 + 32);
  const std::string moved = replaced(text, nonce, "") + nonce;
  EXPECT_NE(refusal(moved).find("nonce field out of order"), std::string::npos);
}

TEST(ShowProof, RefusesUnknownEmptyAndBareFields) {
  EXPECT_NE(refusal(replaced(sample_text(), " auth=", " data=")).find("unknown field"),
            std::string::npos);
  EXPECT_NE(refusal(replaced(sample_text(), " nonce=", " Nonce=")).find("unknown field"),
            std::string::npos);
  EXPECT_NE(refusal(sample_text() + " ").find("empty field"), std::string::npos);
  EXPECT_NE(refusal(replaced(sample_text(), " nonce=", "  nonce=")).find("empty field"),
            std::string::npos);
  EXPECT_NE(refusal("show-proof  v1").find("empty field"), std::string::npos);
  EXPECT_NE(refusal(replaced(sample_text(), " nonce=", " nonce:")).find("without '='"),
            std::string::npos);
  // Tabs and line breaks are not separators: the field holding one is not hex.
  EXPECT_NE(refusal(replaced(sample_text(), " sig=30", " sig=\n30")).find("sig is not"),
            std::string::npos);
}

TEST(ShowProof, RefusesBadHexAndBadBase64url) {
  const std::string text = sample_text();
  EXPECT_NE(refusal(replaced(text, "grant=a0", "grant=A0")).find("grant is not lower-case hex"),
            std::string::npos);
  EXPECT_NE(refusal(replaced(text, "nonce=11", "nonce=1g")).find("nonce is not lower-case hex"),
            std::string::npos);
  EXPECT_NE(refusal(replaced(text, "auth=22", "auth=2")).find("auth is not lower-case hex"),
            std::string::npos);
  EXPECT_NE(refusal(replaced(text, "sig=30", "sig=3")).find("sig is not lower-case hex"),
            std::string::npos);
  EXPECT_NE(refusal(replaced(text, "client=", "client=+/")).find("client is not strict base64url"),
            std::string::npos);
  const std::string client = "client=" + to_base64url(bytes_of(sample().client_data_json));
  EXPECT_NE(refusal(replaced(text, client, "client=A")).find("client is not strict base64url"),
            std::string::npos);
}

TEST(ShowProof, RefusesFieldsOutsideTheirBounds) {
  const std::string text = sample_text();
  const std::string grant = "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf";
  EXPECT_NE(refusal(replaced(text, grant, grant.substr(2))).find("grant is 15 bytes long, not 16"),
            std::string::npos);
  EXPECT_NE(refusal(replaced(text, grant, std::string(32, '0'))).find("grant is all zero"),
            std::string::npos);
  EXPECT_NE(refusal(replaced(text, "nonce=11", "nonce=")).find("nonce is 15 bytes long"),
            std::string::npos);
  EXPECT_NE(refusal(replaced(text, "auth=22", "auth=")).find("auth is 36 bytes long"),
            std::string::npos);
  EXPECT_NE(refusal(replaced(text, "sig=3006020101020102", "sig=")).find("sig is 0 bytes long"),
            std::string::npos);
}

TEST(ShowProof, RefusesAnOversizeDetailBeforeReadingIt) {
  const std::string text = sample_text() + std::string(kMaxShowProofBytes, 'x');
  EXPECT_NE(refusal(text).find("longer than"), std::string::npos);
}

}  // namespace
}  // namespace touchpass
