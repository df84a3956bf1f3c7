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

TEST(CborItemExtent, WalksDeepNestingWithoutRecursion) {
  Bytes deep(200000, 0x81);  // [[[[...]]]] 200,000 levels
  deep.push_back(0x00);
  EXPECT_EQ(cbor_item_extent(deep), deep.size());
}

}  // namespace
}  // namespace touchpass
