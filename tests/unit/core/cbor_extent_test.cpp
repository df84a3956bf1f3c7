#include "core/cbor_extent.h"

#include <gtest/gtest.h>

#include "core/bytes.h"
#include "core/cbor_writer.h"

namespace touchpass {
namespace {

TEST(CborItemExtent, IsTheSizeOfTheFirstItem) {
  CborWriter w;
  w.map(2).uint(1).bytes(Bytes(40, 7)).nint(-3).array(3);
  w.text("a").uint(1000000).array(0);
  Bytes item = w.take();
  const std::size_t size = item.size();
  EXPECT_EQ(cbor_item_extent(item), size);
  item.push_back(0x00);  // another item after it
  item.push_back(0x01);
  EXPECT_EQ(cbor_item_extent(item), size);
}

TEST(CborItemExtent, RefusesCountsTheBytesCannotHold) {
  // An array "of 2^28 items" in five bytes: libcbor would allocate gigabytes for it.
  EXPECT_FALSE(cbor_item_extent(*from_hex("9a10000000")));
  EXPECT_FALSE(cbor_item_extent(*from_hex("ba10000000")));  // map of 2^28 pairs
  EXPECT_FALSE(cbor_item_extent(*from_hex("5a10000000")));  // bstr of 2^28 bytes
  EXPECT_FALSE(cbor_item_extent(*from_hex("9f01ff")));      // indefinite array
  EXPECT_FALSE(cbor_item_extent(*from_hex("1c")));          // reserved
  EXPECT_FALSE(cbor_item_extent(*from_hex("f810")));        // non-shortest simple value
  EXPECT_FALSE(cbor_item_extent(*from_hex("8201")));        // cut short
  EXPECT_FALSE(cbor_item_extent(Bytes{}));
}

TEST(CborHead, ReadsTypeArgumentAndSize) {
  const auto tiny = cbor_head(*from_hex("02"));
  ASSERT_TRUE(tiny);
  EXPECT_EQ(tiny->major, 0);
  EXPECT_EQ(tiny->argument, 2u);
  EXPECT_EQ(tiny->size, 1u);
  const auto bytes = cbor_head(*from_hex("5901000102"));  // a 256-byte string, cut short
  ASSERT_TRUE(bytes);
  EXPECT_EQ(bytes->major, 2);
  EXPECT_EQ(bytes->argument, 256u);
  EXPECT_EQ(bytes->size, 3u);
  const auto map = cbor_head(*from_hex("bb0000000100000000"));
  ASSERT_TRUE(map);
  EXPECT_EQ(map->major, 5);
  EXPECT_EQ(map->argument, std::uint64_t{1} << 32);
  EXPECT_EQ(map->size, 9u);
  EXPECT_FALSE(cbor_head(*from_hex("1a0000")));  // cut short
  EXPECT_FALSE(cbor_head(*from_hex("5f")));      // indefinite
  EXPECT_FALSE(cbor_head(*from_hex("f810")));    // non-shortest simple value
  EXPECT_FALSE(cbor_head(Bytes{}));
}

TEST(CborItemExtent, WalksDeepNestingWithoutRecursion) {
  Bytes deep(200000, 0x81);  // [[[[...]]]] 200,000 levels
  deep.push_back(0x00);
  EXPECT_EQ(cbor_item_extent(deep), deep.size());
}

}  // namespace
}  // namespace touchpass
