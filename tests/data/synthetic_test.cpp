#include <gtest/gtest.h>

#include <algorithm>

#include "voxcast/data/open_dataset.hpp"
#include "voxcast/data/synthetic.hpp"

using namespace voxcast::data;

TEST(Synthetic, IsDeterministicAndLooksLikeCells) {
  SyntheticOptions o;
  o.depth = 24;
  o.height = 96;
  o.width = 128;
  auto a = make_synthetic_cells(o);
  auto b = make_synthetic_cells(o);
  const auto& info = a->info();
  EXPECT_EQ(info.shape, (std::vector<int64_t>{2, 24, 96, 128}));
  EXPECT_EQ(info.channel_axis, 0);
  EXPECT_EQ(info.axes[1].name, "z");
  EXPECT_EQ(info.channels.size(), 2u);
  Box plane{{0, 11, 0, 0}, {2, 1, 96, 128}};
  std::vector<float> va(static_cast<size_t>(plane.count())), vb(va.size());
  ASSERT_FALSE(a->read_region(plane, va.data()));
  ASSERT_FALSE(b->read_region(plane, vb.data()));
  EXPECT_EQ(va, vb);
  // Bright structure over a dim background in both channels.
  for (int c = 0; c < 2; ++c) {
    auto begin = va.begin() + c * 96 * 128;
    auto [lo, hi] = std::minmax_element(begin, begin + 96 * 128);
    EXPECT_LT(*lo, 300.0f);
    EXPECT_GT(*hi, 1000.0f);
  }
}

TEST(Synthetic, ReadRegionChecksTheBox) {
  SyntheticOptions o;
  o.depth = 2;
  o.height = 8;
  o.width = 8;
  auto v = make_synthetic_cells(o);
  std::vector<float> out(64);
  EXPECT_TRUE(v->read_region(Box{{0, 0, 0, 0}, {1, 1, 9, 8}}, out.data()));
  EXPECT_TRUE(v->read_region(Box{{0, 0, 0}, {1, 1, 8}}, out.data()));
  EXPECT_TRUE(v->read_region(Box{{2, 0, 0, 0}, {1, 1, 8, 8}}, out.data()));
  // A sub-box equals the same voxels of a bigger read.
  std::vector<float> full(128), part(4);
  ASSERT_FALSE(v->read_region(Box{{1, 0, 0, 0}, {1, 2, 8, 8}}, full.data()));
  ASSERT_FALSE(v->read_region(Box{{1, 1, 3, 5}, {1, 1, 2, 2}}, part.data()));
  EXPECT_EQ(part[0], full[64 + 3 * 8 + 5]);
  EXPECT_EQ(part[3], full[64 + 4 * 8 + 6]);
}

TEST(OpenDataset, NamesTheProblem) {
  auto ok = open_dataset("synthetic:1x2x16x16");
  ASSERT_EQ(ok.index(), 0u);
  EXPECT_EQ(std::get<0>(ok)->info().shape[0], 1);
  auto bad = open_dataset("synthetic:0x2x16x16");
  ASSERT_EQ(bad.index(), 1u);
  auto missing = open_dataset("/no/such/data.zarr");
  ASSERT_EQ(missing.index(), 1u);
  EXPECT_EQ(std::get<1>(missing).source, "/no/such/data.zarr");
}
