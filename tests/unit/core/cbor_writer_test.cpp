#include "core/cbor_writer.h"

#include <gtest/gtest.h>

#include <limits>

#include "core/bytes.h"

namespace touchpass {
namespace {

std::string hex_of(CborWriter& w) {
  return to_hex(w.data());
}

// Expected encodings from RFC 8949 Appendix A.
TEST(CborWriter, UnsignedIntegersUseTheShortestForm) {
  struct Case {
    std::uint64_t v;
    const char* hex;
  } cases[] = {{0, "00"},
               {23, "17"},
               {24, "1818"},
               {255, "18ff"},
               {256, "190100"},
               {65535, "19ffff"},
               {65536, "1a00010000"},
               {1000000, "1a000f4240"},
               {4294967296ULL, "1b0000000100000000"},
               {std::numeric_limits<std::uint64_t>::max(), "1bffffffffffffffff"}};
  for (const auto& c : cases) {
    CborWriter w;
    w.uint(c.v);
    EXPECT_EQ(hex_of(w), c.hex) << c.v;
  }
}

TEST(CborWriter, NegativeIntegers) {
  struct Case {
    std::int64_t v;
    const char* hex;
  } cases[] = {{-1, "20"},
               {-10, "29"},
               {-25, "3818"},
               {-100, "3863"},
               {-1000, "3903e7"},
               {7, "07"},
               {std::numeric_limits<std::int64_t>::min(), "3b7fffffffffffffff"}};
  for (const auto& c : cases) {
    CborWriter w;
    w.nint(c.v);
    EXPECT_EQ(hex_of(w), c.hex) << c.v;
  }
}

TEST(CborWriter, StringsArraysMapsAndBooleans) {
  CborWriter w;
  w.map(2).uint(1).text("a").uint(2).array(2).bytes(Bytes{0x01, 0x02}).boolean(true);
  EXPECT_EQ(hex_of(w), "a20161610282420102f5");
}

}  // namespace
}  // namespace touchpass
