// The procedural pyramid: opened by name, levels halving, cells read through the chunk
// cache (nothing stored), bad names refused with a typed error.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>

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

// A request bigger than the cache: queued whole, its last loads would evict its first
// before anyone read them. It stops at half the cache (the first box always goes), says
// not all is in memory, and loads_pending() tells a poller when the loads are over.
TEST(Procedural, ARequestStopsAtHalfTheCacheAndTheFirstBoxAlwaysGoes) {
  OpenOptions o;
  o.cache = std::make_shared<ChunkCache>(8 << 20, 2);  // 8 MB: 16 chunks of 64^3 u16
  auto opened = open_dataset("procedural:1024:2", o);
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<VolumeSource>>(opened));
  const VolumeSource& v = *std::get<0>(opened);
  std::vector<LevelBox> boxes;
  for (int64_t i = 0; i < 16; ++i) boxes.push_back({0, {{0, 0, i * 64}, {64, 64, 64}}});  // one chunk each
  EXPECT_FALSE(v.request_all(boxes, {1, 0, false}));
  auto settled = [&] {
    for (int i = 0; i < 2000 && v.loads_pending(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return !v.loads_pending();
  };
  ASSERT_TRUE(settled());
  const ChunkCacheStats s = o.cache->stats();
  EXPECT_EQ(s.loads, 8u);   // 4 MB of the 8
  EXPECT_EQ(s.evictions, 0u);
  // The boxes requested are in memory, the first one first; the others were not asked for.
  EXPECT_TRUE(v.request(0, boxes[0].box, {0, 0, true}));
  EXPECT_TRUE(v.request(0, boxes[7].box, {0, 0, true}));
  EXPECT_FALSE(v.request(0, boxes[8].box, {0, 0, true}));
  // One box bigger than the limit still goes (a caller must make progress).
  EXPECT_FALSE(v.request_all({{0, {{256, 256, 256}, {128, 128, 128}}}}, {2, 0, false}));
  ASSERT_TRUE(settled());
  EXPECT_EQ(o.cache->stats().loads, 16u);
  EXPECT_TRUE(v.request(0, {{256, 256, 256}, {128, 128, 128}}, {0, 0, true}));
}
