// The QR code the CLI draws for a phone, read back by a real decoder (zbarimg).
#include "cli/qr_text.h"

#include <gtest/gtest.h>

#include "support/qr_reader.h"

namespace touchpass::cli {
namespace {

TEST(QrText, ADrawnLinkDecodesBackToItself) {
  if (!testing::zbarimg_available()) GTEST_SKIP() << "needs zbarimg (zbar-tools)";
  for (const std::string& link :
       {std::string("https://a.example/setup.html#x"),
        "https://mail.example.org:8443/setup.html#" + std::string(43, 'Q'),
        "https://" + std::string(200, 'm') + ".example/setup.html#token"}) {
    auto code = encode_qr(link);
    ASSERT_TRUE(code.ok()) << code.error().message;
    const std::string drawn = qr_for_terminal(*code);
    std::string why;
    const auto read = testing::read_terminal_qr(drawn, &why);
    ASSERT_TRUE(read.has_value()) << why;
    EXPECT_EQ(*read, link);
  }
}

TEST(QrText, EveryLineIsBlackOnWhiteWithAQuietZone) {
  auto code = encode_qr("https://a.example/");
  ASSERT_TRUE(code.ok());
  const std::string drawn = qr_for_terminal(*code);
  const std::size_t lines = static_cast<std::size_t>((code->size + 2 * kQrQuietZone + 1) / 2);
  EXPECT_EQ(std::count(drawn.begin(), drawn.end(), '\n'), static_cast<std::ptrdiff_t>(lines));
  // The first line is quiet zone only: spaces between the colours and the reset.
  const std::string first = drawn.substr(0, drawn.find('\n'));
  EXPECT_EQ(first,
            "\x1b[30;47m" + std::string(static_cast<std::size_t>(code->size) + 8, ' ') + "\x1b[0m");
}

TEST(QrText, NothingAndTooMuchAreRefused) {
  EXPECT_EQ(encode_qr("").code(), Code::invalid_argument);
  EXPECT_EQ(encode_qr(std::string(4000, 'x')).code(), Code::invalid_argument);
}

}  // namespace
}  // namespace touchpass::cli
