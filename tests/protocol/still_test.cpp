#include "voxcast/protocol/still.hpp"

#include <gtest/gtest.h>

namespace voxcast::protocol {
namespace {

const Bytes kPng{0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3};

TEST(Still, PayloadRoundTrips) {
  StillMeta meta{0x0102030405060708ull, 4321, 987};
  Bytes payload = build_still_payload(meta, kPng);
  ASSERT_EQ(payload.size(), kStillPrefixSize + kPng.size());
  EXPECT_EQ(payload[0], 0x01);  // big-endian
  EXPECT_EQ(payload[7], 0x08);
  auto v = read_still(payload);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->meta.scene_version, meta.scene_version);
  EXPECT_EQ(v->meta.render_us, 4321u);
  EXPECT_EQ(v->meta.png_us, 987u);
  EXPECT_EQ(Bytes(v->png.begin(), v->png.end()), kPng);
}

TEST(Still, ShortOrNotPngIsATypedError) {
  Bytes payload = build_still_payload({}, kPng);
  for (size_t n : {size_t{0}, size_t{15}, kStillPrefixSize + 7}) {
    auto v = read_still(ByteSpan(payload.data(), n));
    ASSERT_FALSE(v) << n;
    EXPECT_EQ(v.error().code, "pixel.invalid");
  }
  payload[kStillPrefixSize + 1] = 'J';
  auto v = read_still(payload);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, "pixel.invalid");
}

TEST(Still, OnlyAnExactQueryParameterAsksForStills) {
  EXPECT_TRUE(target_asks_for_stills("/pixel?token=abc&still=png"));
  EXPECT_TRUE(target_asks_for_stills("/?still=png&token=abc"));
  EXPECT_TRUE(target_asks_for_stills("/?still=png"));
  EXPECT_FALSE(target_asks_for_stills("/pixel?token=abc"));
  EXPECT_FALSE(target_asks_for_stills("/pixel?token=still=png"));
  EXPECT_FALSE(target_asks_for_stills("/pixel?still=pngx"));
  EXPECT_FALSE(target_asks_for_stills("/still=png"));
  EXPECT_FALSE(target_asks_for_stills(""));
}

}  // namespace
}  // namespace voxcast::protocol
