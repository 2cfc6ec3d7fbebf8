// The procedural pyramid: opened by name, levels halving, cells read through the chunk
// cache (nothing stored), bad names refused with a typed error.
#include <gtest/gtest.h>

#include <algorithm>

#include "voxcast/data/open_dataset.hpp"

using namespace voxcast::data;

TEST(Procedural, OpensByNameWithAPyramidAndReadsCells) {
  OpenOptions o;
  o.cache = std::make_shared<ChunkCache>(64 << 20, 1);
  auto opened = open_dataset("procedural:4096:5", o);
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<VolumeSource>>(opened));
  const VolumeSource& v = *std::get<0>(opened);
  const VolumeInfo& info = v.info();
  EXPECT_EQ(info.shape, (std::vector<int64_t>{4096, 4096, 4096}));
  ASSERT_EQ(info.levels.size(), 5u);
  EXPECT_EQ(info.levels[4].shape, (std::vector<int64_t>{256, 256, 256}));
  EXPECT_DOUBLE_EQ(info.levels[4].factor[0], 16.0);
  // A 64^3 box at the centre of level 0 holds background and brighter cells.
  Box box{{2048, 2048, 2048}, {64, 64, 64}};
  std::vector<float> a(static_cast<size_t>(box.count())), b(a.size());
  ASSERT_FALSE(v.read_level(0, box, a.data()));
  ASSERT_FALSE(v.read_level(0, box, b.data()));
  EXPECT_EQ(a, b);  // deterministic
  auto [lo, hi] = std::minmax_element(a.begin(), a.end());
  EXPECT_GE(*lo, 100.0f);
  // A coarse level covers 16x the extent: some cell is in it.
  std::vector<float> c(static_cast<size_t>(box.count()));
  ASSERT_FALSE(v.read_level(4, {{96, 96, 96}, {64, 64, 64}}, c.data()));
  EXPECT_GT(*std::max_element(c.begin(), c.end()), 300.0f);
  (void)hi;
}

TEST(Procedural, BadNamesAreRefused) {
  for (const char* bad : {"procedural:", "procedural:4096", "procedural:8:2", "procedural:4096:40", "procedural:64:2x"}) {
    auto opened = open_dataset(bad);
    ASSERT_TRUE(std::holds_alternative<DataError>(opened)) << bad;
    EXPECT_NE(std::get<DataError>(opened).message.find("procedural:SIZE:LEVELS"), std::string::npos);
  }
}
