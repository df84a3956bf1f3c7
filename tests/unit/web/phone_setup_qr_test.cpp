// The QR code touchpass-web adds to a finish result with a phone setup (web/phone_setup_qr.h):
// its rows decode back to the link with a real decoder (zbarimg), and nothing else is touched.
#include "web/phone_setup_qr.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/qr_reader.h"

namespace touchpass::web {
namespace {

using Json = nlohmann::json;

// The modules of the "qr" object, checked for shape: size rows of size '0'/'1' characters.
std::vector<std::vector<bool>> modules_of(const Json& qr) {
  std::vector<std::vector<bool>> rows;
  const int size = qr.at("size").get<int>();
  EXPECT_GE(size, 21);
  EXPECT_EQ(qr.at("rows").size(), static_cast<std::size_t>(size));
  for (const Json& row : qr.at("rows")) {
    const std::string& text = row.get_ref<const std::string&>();
    EXPECT_EQ(text.size(), static_cast<std::size_t>(size));
    EXPECT_EQ(text.find_first_not_of("01"), std::string::npos) << text;
    std::vector<bool> modules;
    for (char c : text) modules.push_back(c == '1');
    rows.push_back(std::move(modules));
  }
  return rows;
}

TEST(PhoneSetupQr, TheRowsDecodeBackToTheLink) {
  if (!touchpass::testing::zbarimg_available()) GTEST_SKIP() << "needs zbarimg (zbar-tools)";
  const std::string link = "https://mail.example.test:8443/setup.html#" + std::string(43, 'T');
  Json result = {{"name", "phone"}, {"phone_setup", {{"link", link}, {"expires", 1800000000}}}};
  add_phone_setup_qr(result);
  ASSERT_TRUE(result["phone_setup"].contains("qr")) << result.dump();
  std::string why;
  const auto text =
      touchpass::testing::read_qr_modules(modules_of(result["phone_setup"]["qr"]), &why);
  ASSERT_TRUE(text.has_value()) << why;
  EXPECT_EQ(*text, link);
  EXPECT_EQ(result["phone_setup"]["link"], link);
  EXPECT_EQ(result["phone_setup"]["expires"], 1800000000);
  EXPECT_EQ(result["name"], "phone");
}

TEST(PhoneSetupQr, ResultsWithoutALinkAreLeftAsTheyAre) {
  for (const Json& unchanged :
       {Json::object(), Json{{"name", "x"}}, Json{{"phone_setup_error", "full"}},
        Json{{"phone_setup", "https://x/"}}, Json{{"phone_setup", {{"link", 42}}}},
        Json{{"phone_setup", {{"expires", 1}}}}, Json::array(), Json("text")}) {
    Json result = unchanged;
    add_phone_setup_qr(result);
    EXPECT_EQ(result, unchanged);
  }
}

TEST(PhoneSetupQr, ALinkNoCodeHoldsGetsASentenceInstead) {
  Json result = {{"phone_setup", {{"link", std::string(4000, 'a')}}}};
  add_phone_setup_qr(result);
  EXPECT_FALSE(result["phone_setup"].contains("qr"));
  ASSERT_TRUE(result["phone_setup"].contains("qr_error")) << result.dump();
  EXPECT_FALSE(result["phone_setup"]["qr_error"].get<std::string>().empty());
}

}  // namespace
}  // namespace touchpass::web
